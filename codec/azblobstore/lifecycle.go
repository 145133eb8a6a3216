package azblobstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/seed-a62fcf0e/longhaul/codec/retention"
)

var _ retention.Source = (*Store)(nil)

// Lifecycle reports that the rules cannot be read: Azure keeps lifecycle management
// policies on the storage account (Microsoft.Storage/storageAccounts/managementPolicies),
// readable only through Azure Resource Manager with a control-plane role, not through
// the Blob service API this store uses. retention.Check answers CannotTell and says
// which daysAfterModificationGreaterThan is safe, so an operator can compare it with
// `az storage account management-policy show`.
func (s *Store) Lifecycle(context.Context) (retention.Lifecycle, error) {
	lc := s.core.Lifecycle()
	lc.Unknown = fmt.Sprintf("Azure lifecycle management policies belong to the storage account and are read through "+
		"Azure Resource Manager (az storage account management-policy show), not the Blob service API; "+
		"check that rules with prefixMatch %s use daysAfterModificationGreaterThan", s.prefixMatches())
	return lc, nil
}

// prefixMatches lists the container-qualified blob prefixes a management policy's
// prefixMatch must cover, e.g. "blobs/prod/v1/" and "blobs/prod/v2/".
func (s *Store) prefixMatches() string {
	prefixes := s.core.BlobPrefixes()
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = strconv.Quote(s.core.Bucket + "/" + p)
	}
	return strings.Join(quoted, " and ")
}
