// Package kinds is the registry: every kind of fence ipsync knows. Adding a
// kind is one package under internal/target and one line here (and one in
// internal/wire/reconciler, which builds its adapter): docs/development.md.
package kinds

import (
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
)

// All is every kind, in the order messages list them.
func All() target.Registry {
	return target.Registry{
		kmspolicy.Kind{},
		vpcepolicy.Kind{},
		iamrolepolicy.Kind{},
		atlasaccesslist.Kind{},
		securitygroup.Kind{},
		prefixlist.Kind{},
		wafipset.Kind{},
		gcpaccesslevel.Kind{},
		azurekeyvault.Kind{},
	}
}
