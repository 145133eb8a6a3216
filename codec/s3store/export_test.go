package s3store

// SetMaxCopySize lowers the size above which a self-copy uses UploadPartCopy, so tests
// can exercise that path without a 5 GiB object. It returns a restore func.
func SetMaxCopySize(n int64) (restore func()) {
	old := maxCopySize
	maxCopySize = n
	return func() { maxCopySize = old }
}
