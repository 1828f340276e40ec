package securitygroup

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Rule is the traffic a target's rules allow: direction, protocol and
// ports, as EC2 writes them (IpProtocol "-1" for all; -1/-1 for all ports).
type Rule struct {
	Egress   bool
	Protocol string // tcp, udp, icmp, -1
	From, To int32
	Quota    int // rules per direction per family
}

// ParseRule reads a target's options; every problem is reported.
func ParseRule(o target.Options) (Rule, error) {
	var errs []error
	r := Rule{From: -1, To: -1, Quota: DefaultQuota}
	switch o.Direction {
	case "egress":
		r.Egress = true
	case "ingress":
	case "":
		errs = append(errs, errors.New("direction is required: ingress or egress"))
	default:
		errs = append(errs, fmt.Errorf("direction %q: want ingress or egress", o.Direction))
	}
	switch o.Protocol {
	case "tcp", "udp":
		r.Protocol = o.Protocol
		if o.Ports == "" {
			errs = append(errs, fmt.Errorf("ports are required for %s: \"PORT\" or \"FROM-TO\"", o.Protocol))
			break
		}
		from, to, err := parsePorts(o.Ports)
		if err != nil {
			errs = append(errs, err)
		}
		r.From, r.To = from, to
	case "icmp", "all":
		r.Protocol = "icmp"
		if o.Protocol == "all" {
			r.Protocol = "-1"
		}
		if o.Ports != "" {
			errs = append(errs, fmt.Errorf("ports %q: protocol %s takes no ports (every %s is allowed)", o.Ports, o.Protocol, map[string]string{"icmp": "ICMP type", "all": "port"}[o.Protocol]))
		}
	case "":
		errs = append(errs, errors.New("protocol is required: tcp, udp, icmp or all"))
	default:
		errs = append(errs, fmt.Errorf("protocol %q: want tcp, udp, icmp or all", o.Protocol))
	}
	switch {
	case o.MaxRules < 0 || o.MaxRules > 1000:
		errs = append(errs, fmt.Errorf("maxRules %d: want the account's rules-per-group quota, 1 to 1000 (0 or none: %d)", o.MaxRules, DefaultQuota))
	case o.MaxRules > 0:
		r.Quota = o.MaxRules
	}
	return r, errors.Join(errs...)
}

func parsePorts(s string) (from, to int32, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	f, errF := strconv.ParseUint(a, 10, 16)
	t, errT := strconv.ParseUint(b, 10, 16)
	if errF != nil || errT != nil || f > t {
		return 0, 0, fmt.Errorf("ports %q: want \"PORT\" or \"FROM-TO\", 0 to 65535, FROM not above TO", s)
	}
	return int32(f), int32(t), nil
}

// Same says a rule of the group is for exactly this traffic.
func (r Rule) Same(egress bool, protocol string, from, to int32) bool {
	return egress == r.Egress && protocol == r.Protocol && (r.Protocol == "-1" || from == r.From && to == r.To)
}

// Covers says a rule of the group allows at least this traffic (all
// protocols, or the same protocol and a port range holding this one).
func (r Rule) Covers(egress bool, protocol string, from, to int32) bool {
	if egress != r.Egress {
		return false
	}
	switch {
	case protocol == "-1":
		return true
	case protocol != r.Protocol:
		return false
	case from == -1 && to == -1:
		return true // every port or ICMP type
	case r.Protocol == "icmp":
		return false // ipsync's rule allows every ICMP type; this one fewer
	}
	return from <= r.From && to >= r.To
}

// String is "egress tcp 27015-27017".
func (r Rule) String() string {
	dir := "ingress"
	if r.Egress {
		dir = "egress"
	}
	switch {
	case r.Protocol == "-1":
		return dir + " all traffic"
	case r.From == -1:
		return dir + " " + r.Protocol
	case r.From == r.To:
		return fmt.Sprintf("%s %s %d", dir, r.Protocol, r.From)
	}
	return fmt.Sprintf("%s %s %d-%d", dir, r.Protocol, r.From, r.To)
}
