// Package atlasaccesslist is the atlas-access-list kind: an Atlas project's
// IP access list (resource = project id), of which ipsync manages the
// entries whose comment starts with the target's sid (its prefix); every
// other entry is left alone. Its sources are NAT gateways: what reaches
// Atlas, not what Atlas uses. The adapter (accesslistio) talks to Atlas.
package atlasaccesslist

import (
	"errors"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Type is the kind's name in the config.
const Type target.Type = "atlas-access-list"

// Capacity is Atlas's limit of entries per project access list.
var Capacity = target.Capacity{Name: "Atlas project IP access list", Max: 200, Unit: target.Entries}

// Kind is the atlas-access-list kind.
type Kind struct{}

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "Atlas project IP access list" }
func (Kind) Capacity() target.Capacity { return Capacity }

func (Kind) Words() target.Words {
	return target.Words{Part: "the managed entries", Plural: true, Updated: "The access list's managed entries were updated and verified.", Size: "access list"}
}

func (Kind) CheckResource(r string) error {
	if ids.ProjectID(r) {
		return nil
	}
	return errors.New("want the Atlas project id (24 lowercase hex digits)")
}

func (Kind) Rules() target.Rules {
	return target.Rules{MaxSid: 80, SidMeans: "the managed entries' comment prefix", Feeds: target.FeedNATGateways, OnePerResource: true}
}

// Example: an access list needs nothing added; ipsync adds its entries.
func (Kind) Example(string, []string) string { return "" }
