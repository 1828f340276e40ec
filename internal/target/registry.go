package target

import "strings"

// Registry is the kinds a run knows, in the order messages list them.
type Registry []Kind

// Lookup is the kind of a type.
func (r Registry) Lookup(t Type) (Kind, bool) {
	for _, k := range r {
		if k.Type() == t {
			return k, true
		}
	}
	return nil, false
}

// Names lists the types, for a message: "kms-key-policy, vpc-endpoint-policy".
func (r Registry) Names() string {
	names := make([]string, len(r))
	for i, k := range r {
		names[i] = string(k.Type())
	}
	return strings.Join(names, ", ")
}
