package target

// Kind is a type of fence as config, plan, doctor and the CLI know it:
// everything but the I/O, which its adapter does. A kind is registered
// once, in internal/target/kinds.
type Kind interface {
	Type() Type
	// Noun names one fence of the kind: "KMS key policy".
	Noun() string
	// CheckResource says what is wrong with a target's resource, or nil.
	CheckResource(resource string) error
	// Rules are the kind's config rules beyond the ones every target has.
	Rules() Rules
	// Capacity is the kind's limit, before anything narrows it.
	Capacity() Capacity
	// Words are how messages name what ipsync owns in the fence.
	Words() Words
	// Example is what a user adds to a fence that lacks the owned part,
	// already holding addrs, or "" when the kind has none to show.
	Example(sid string, addrs []string) string
}

// Rules are a kind's config rules.
type Rules struct {
	// MaxSid bounds the sid's length (0: any); SidMeans says what the sid
	// is, for the message.
	MaxSid   int
	SidMeans string
	// Feeds says which sources a target of the kind takes.
	Feeds Feed
	// OnePerResource: at most one target may name a resource (the service
	// refuses concurrent changes to one fence).
	OnePerResource bool
	// EncryptionAtRest: a target may name encryptionAtRestProjects, the
	// Atlas projects whose encryption at rest the fence guards.
	EncryptionAtRest bool
	// DefaultSources, in the config's syntax, feed a target that names
	// neither sources nor static CIDRs.
	DefaultSources []string
	// NameFromResource, when set, is the default name of a target; nil:
	// the resource's last path element.
	NameFromResource func(resource string) string
	// CheckOptions, when set, says what is wrong with a target's Options
	// (all problems joined), or nil; nil: the kind takes none.
	CheckOptions func(Options) error
	// OutsideAWS: the fence is not in AWS, so no AWS role reaches it
	// (roleArn is refused).
	OutsideAWS bool
	// Cloud names the config block a target of the kind needs (its
	// cloud's credentials and endpoints); "": none.
	Cloud Cloud
	// SidChars, when set, says whether the sid holds only characters the
	// service accepts where ipsync writes it (a rule's description).
	SidChars func(sid string) bool
	// RecordedOwnership: the fence does not mark which of its parts are
	// ipsync's (Azure's IP rules carry no description), so the loop passes
	// what the snapshot says ipsync wrote (Ref.Written), and records what
	// a run is about to write before it writes.
	RecordedOwnership bool
}

// Cloud is a config block of another cloud's settings.
type Cloud string

// Clouds.
const (
	CloudGCP   Cloud = "gcp"
	CloudAzure Cloud = "azure"
)

// Feed says which sources a kind takes.
type Feed int

// Feeds.
const (
	// FeedAtlas: Atlas's addresses (control plane, nodes) and static CIDRs.
	FeedAtlas Feed = iota
	// FeedNATGateways: NAT gateways' addresses and static CIDRs (what
	// reaches Atlas, rather than what Atlas uses).
	FeedNATGateways
)

// Words are how messages name what ipsync owns in a fence of the kind.
type Words struct {
	Part    string // "the owned statement", "the managed entries"
	Plural  bool   // Part takes "are", "they"
	Updated string // the alert's line after a change: "The policy was updated and verified."
	Size    string // what the plan's size line measures: "policy size", "access list"
	// Others names a part of the fence ipsync does not own, for the plan's
	// reason: "a rule ipsync does not own".
	Others string
	// FirstRunSays, when set, is the plan's reason on a first run (a kind
	// that owns only what it wrote replaces nothing then).
	FirstRunSays string
}

// FirstRun is the plan's reason on a target's first run.
func (w Words) FirstRun() string {
	if w.FirstRunSays != "" {
		return w.FirstRunSays
	}
	return "first run: " + w.Part + " " + w.pick("is", "are") + " replaced with the desired addresses, whatever " + w.pick("it", "they") + " held"
}

// Drift is the plan's reason when the owned part changed outside ipsync.
func (w Words) Drift() string {
	return "drift: " + w.Part + " " + w.pick("was", "were") + " changed outside ipsync; restoring " + w.pick("it", "them")
}

// DriftRestored is the alert's line after drift was put right.
func (w Words) DriftRestored() string {
	return capital(w.Part) + " had been changed outside ipsync; " + w.pick("it was", "they were") + " restored and verified."
}

func (w Words) pick(one, many string) string {
	if w.Plural {
		return many
	}
	return one
}

func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// Statement is the Words of the kinds that own one statement of a policy.
var Statement = Words{Part: "the owned statement", Updated: "The policy was updated and verified.", Size: "policy size"}
