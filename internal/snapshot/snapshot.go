// Package snapshot is the canonical record of what Atlas said, and where it is
// kept between runs. The hash covers the addresses only, so two fetches that
// found the same addresses have the same hash whenever they ran.
package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// SchemaVersion is the version this code writes. It also reads version 1,
// which kept the run's alert state among the targets' under "run".
const SchemaVersion = 2

// Snapshot is one fetch of Atlas's addresses.
type Snapshot struct {
	SchemaVersion int                `json:"schemaVersion"`
	FetchedAt     time.Time          `json:"fetchedAt"`
	Hash          string             `json:"hash"`
	ControlPlane  ControlPlane       `json:"controlPlane"`
	Projects      map[string]Project `json:"projects"` // by project (group) id
	// Targets and Alerts are ipsync's memory, not Atlas's answer: the hash
	// does not cover them.
	Targets map[string]TargetRecord `json:"targets,omitempty"` // by target name
	Alerts  map[string]string       `json:"alerts,omitempty"`  // by target name: last alert state
	// RunAlert is the last alert state of the run as a whole, apart from
	// the targets' so that a target may have any name.
	RunAlert string `json:"runAlert,omitempty"`
	// Lease is held by a run while it writes policies, so that two runs
	// racing on one snapshot cannot both apply.
	Lease *Lease `json:"lease,omitempty"`
	// Outbox holds alerts recorded but not yet published: a run that stops
	// between recording and notifying leaves them for the next run to send.
	Outbox []PendingAlert `json:"outbox,omitempty"`
	// Blocked holds targets whose change ipsync rolled back because Atlas
	// lost encryption at rest after it; they get no change until a human
	// runs `ipsync unblock`.
	Blocked map[string]Block `json:"blocked,omitempty"` // by target name
	// Unrecorded holds, by target, the sets runs claimed they were about
	// to write and did not record yet, oldest first: a run that wrote and
	// stopped before recording leaves the next one what it wrote (its
	// addresses get the removal grace; for a fence that does not mark
	// ipsync's part, Azure's IP rules, they say what ipsync owns).
	Unrecorded map[string][]ipset.Set `json:"unrecorded,omitempty"`
	// Seen is when a run of each trigger ("schedule", "webhook", ...) last
	// completed: recorded when the run writes the snapshot anyway, and
	// otherwise at most once per SeenHeartbeat, so that a run with nothing
	// to do rarely writes. ipsync doctor reads it.
	Seen map[string]time.Time `json:"seen,omitempty"`
}

// Trigger names what started a run, as Seen records it.
type Trigger string

// Triggers.
const (
	TriggerSchedule    Trigger = "schedule"    // EventBridge Scheduler
	TriggerWebhook     Trigger = "webhook"     // an Atlas alert, through the trigger queue
	TriggerEventBridge Trigger = "eventbridge" // an EventBridge rule
	TriggerCLI         Trigger = "cli"         // ipsync apply
)

// SeenHeartbeat is how stale Seen may grow before a run with nothing else
// to record writes the snapshot just to refresh it.
const SeenHeartbeat = 6 * time.Hour

// Block says why a target takes no change.
type Block struct {
	Since    time.Time `json:"since"`
	Reason   string    `json:"reason"`
	Projects []string  `json:"projects,omitempty"` // that reported awsKms.valid false
	// Add and Remove are the change that was rolled back.
	Add    ipset.Set `json:"add"`
	Remove ipset.Set `json:"remove"`
	// Pending says the rollback was decided and recorded, but not yet known
	// to be written: Restore is the set the owned statement must hold again.
	// The block is recorded before the restoring write, so that a run that
	// stops in between leaves the next one to finish the rollback rather
	// than make the change again.
	Pending bool      `json:"pending,omitempty"`
	Restore ipset.Set `json:"restore,omitzero"`
}

// PendingAlert is an alert waiting in the outbox.
type PendingAlert struct {
	Event   string `json:"event"`
	Key     string `json:"key"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Lease names the run applying changes, and until when its claim holds (a
// run that dies leaves a lease that simply expires).
type Lease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// TargetRecord is what a run remembers of one target: the addresses its
// sources gave (without static CIDRs), the set the owned statement held when
// the run finished, and the addresses Atlas stopped listing, since when.
type TargetRecord struct {
	Type      string      `json:"type"`
	Resource  string      `json:"resource"`
	Source    ipset.Set   `json:"source"`
	Written   ipset.Set   `json:"written"`
	Departed  []Departure `json:"departed,omitempty"`
	UpdatedAt time.Time   `json:"updatedAt"`
	// Published is the hash of the set last published beside the snapshot
	// (TargetSet), so that it is written only when it changes.
	Published string `json:"published,omitempty"`
}

// Departure is a group of addresses that left Atlas's answer at one time.
type Departure struct {
	Since     time.Time `json:"since"`
	Addresses ipset.Set `json:"addresses"`
}

// Regions maps cloud provider → region → addresses.
type Regions map[string]map[string]ipset.Set

// ControlPlane is the control-plane answer by direction, provider and region.
type ControlPlane struct {
	Inbound  Regions            `json:"inbound"`
	Outbound Regions            `json:"outbound"`
	Gateways map[string]Gateway `json:"gateways,omitempty"` // by gateway name
}

// Gateway is one named gateway of the control-plane answer.
type Gateway struct {
	Inbound  Regions `json:"inbound"`
	Outbound Regions `json:"outbound"`
}

// Project holds a project's clusters by name.
type Project struct {
	Clusters map[string]Cluster `json:"clusters"`
}

// Cluster holds one cluster's node addresses.
type Cluster struct {
	Inbound        ipset.Set `json:"inbound"`
	Outbound       ipset.Set `json:"outbound"`
	FutureInbound  ipset.Set `json:"futureInbound"`
	FutureOutbound ipset.Set `json:"futureOutbound"`
}

// addresses is what the hash covers. encoding/json writes map keys sorted and
// ipset.Set is canonical, so equal addresses give equal bytes.
type addresses struct {
	ControlPlane ControlPlane       `json:"controlPlane"`
	Projects     map[string]Project `json:"projects"`
}

// ContentHash is "sha256:" and the hex digest of the addresses alone.
func (s *Snapshot) ContentHash() string {
	b, err := json.Marshal(addresses{ControlPlane: s.ControlPlane, Projects: s.Projects})
	if err != nil {
		panic(fmt.Sprintf("snapshot: marshal addresses: %v", err)) // only sets and maps of strings: cannot fail
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Seal sets the schema version and the hash; call it after building a snapshot.
func (s *Snapshot) Seal() {
	s.SchemaVersion = SchemaVersion
	if s.Projects == nil {
		s.Projects = map[string]Project{}
	}
	s.Hash = s.ContentHash()
}

// Marshal writes the snapshot as indented JSON, the stored form.
func (s *Snapshot) Marshal() ([]byte, error) {
	return json.MarshalIndent(s, "", "  ")
}

// Unmarshal reads a stored snapshot strictly: unknown fields, a newer schema,
// a bad address or a hash that does not match the addresses are errors, so a
// damaged snapshot can never pass for Atlas's answer.
func Unmarshal(b []byte) (*Snapshot, error) {
	var probe struct {
		SchemaVersion int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if probe.SchemaVersion != SchemaVersion && probe.SchemaVersion != 1 {
		return nil, fmt.Errorf("decode snapshot: schema version %d, this ipsync reads 1 and %d", probe.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Projects == nil {
		s.Projects = map[string]Project{}
	}
	if s.SchemaVersion == 1 {
		// Version 1 kept the run's alert state under "run", shared with a
		// target of that name: read it as the run's, which is what it meant
		// to every run but that target's.
		if v, ok := s.Alerts[legacyRunKey]; ok {
			s.RunAlert = v
			delete(s.Alerts, legacyRunKey)
		}
		s.SchemaVersion = SchemaVersion
	}
	if got := s.ContentHash(); got != s.Hash {
		return nil, fmt.Errorf("decode snapshot: stored hash %s does not match its addresses (%s): the snapshot was edited or damaged", s.Hash, got)
	}
	return &s, nil
}

// legacyRunKey is where schema version 1 kept the run's alert state.
const legacyRunKey = "run"

// Version identifies one stored state of a snapshot (an S3 ETag, or a
// digest of the file). The empty Version means "no snapshot yet".
type Version string

// ErrNotFound is returned by Load when no snapshot has been stored yet.
var ErrNotFound = errors.New("no snapshot stored yet")

// ConflictError is a lost race: someone else wrote the snapshot since it was
// read. The caller starts again from fresh state.
type ConflictError struct {
	URL string
	Err error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("snapshot %s changed since it was read (another run wrote it): %v", e.URL, e.Err)
}
func (e *ConflictError) Unwrap() error { return e.Err }
