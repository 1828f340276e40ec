package target

// Options are a target's settings that only some kinds take (a security
// group's rule: direction, protocol, ports, quota). A kind that takes none
// leaves Rules.CheckOptions nil, and config refuses a target of it that
// sets one.
type Options struct {
	Direction string // "ingress" or "egress"
	Protocol  string // "tcp", "udp", "icmp" or "all"
	Ports     string // "PORT" or "FROM-TO"
	MaxRules  int    // the account's rules-per-group quota for one direction; 0: the default
}

// IsZero says no option is set.
func (o Options) IsZero() bool { return o == Options{} }
