// Package s3store is a codec.Store in an S3 bucket.
package s3store
