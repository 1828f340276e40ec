package doctor

import (
	"context"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// tagged is an adapter that can read its fence's resource tags.
type tagged interface {
	Tags(ctx context.Context, ref target.Ref) (map[string]string, error)
}

// declaredBy names the infrastructure-as-code tool whose tag a resource
// carries, or "": CloudFormation tags every resource of a stack with
// aws:cloudformation:stack-name; Terraform tags nothing by itself, so the
// tags teams commonly add for it are recognised (a key "terraform", or a
// managed-by style key whose value says terraform).
func declaredBy(tags map[string]string) string {
	if stack, ok := tags["aws:cloudformation:stack-name"]; ok {
		return "CloudFormation stack " + stack
	}
	for k, v := range tags {
		switch strings.ToLower(strings.NewReplacer("-", "", "_", "", ":", "").Replace(k)) {
		case "terraform":
			return "Terraform (tag " + k + ")"
		case "managedby", "createdby", "provisioner", "provisionedby", "iac", "tool":
			if strings.Contains(strings.ToLower(v), "terraform") {
				return "Terraform (tag " + k + "=" + v + ")"
			}
		}
	}
	return ""
}

// iacAdvice is the warning for a target declared in IaC.
func iacAdvice(by string) string {
	return "the resource is declared by " + by + ": its next apply may revert what ipsync writes, and ipsync would put it back, a fight that flaps the fence. Keep the owned part out of the template, or render it from the set ipsync publishes: see docs/iac.md"
}

// perimeterLister is an adapter whose fence protects only where a service
// perimeter lists it (a GCP access level).
type perimeterLister interface {
	Perimeters(ctx context.Context, ref target.Ref) ([]string, error)
}
