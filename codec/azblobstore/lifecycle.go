package azblobstore

import (
	"context"
	"fmt"

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
		"check that a rule on prefixMatch %q uses daysAfterModificationGreaterThan", s.core.Bucket+"/"+s.core.BlobPrefix())
	return lc, nil
}
