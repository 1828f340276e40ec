// Package hook builds the webhook handler from the config: the secret cache,
// the trigger queue and, when enabled, the source-address check.
package hook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// Handler builds the webhook handler. It makes no network call: the secret
// and the snapshot are read on first use.
func Handler(c *config.Config, awsCfg aws.Config, log *slog.Logger) (*webhook.Handler, error) {
	if c.Webhook.SecretID == "" {
		return nil, errors.New("config: webhook.secretId is required for the webhook")
	}
	if c.Trigger.QueueURL == "" {
		return nil, errors.New("config: trigger.queueUrl is required for the webhook")
	}
	h := &webhook.Handler{
		Secrets: webhook.NewSecretCache(secretsmanager.NewFromConfig(awsCfg), c.Webhook.SecretID),
		Queue:   webhook.NewSQSQueue(sqs.NewFromConfig(awsCfg), c.Trigger.QueueURL),
		Log:     log,
	}
	if len(c.Webhook.EventTypes) > 0 {
		h.EventTypes = map[string]bool{}
		for _, t := range c.Webhook.EventTypes {
			h.EventTypes[t] = true
		}
	}
	if c.Webhook.CheckSource {
		store, err := wire.SnapshotStore(c, awsCfg)
		if err != nil {
			return nil, err
		}
		h.SourceAllowed = (&sourceCheck{store: store, ttl: time.Minute, widest: c.Guards.WidestPrefix}).allowed
	}
	return h, nil
}

// sourceCheck answers from the latest snapshot's control-plane outbound
// addresses (Atlas sends webhooks from those), re-read at most once a minute.
type sourceCheck struct {
	store snapshot.Store
	ttl   time.Duration

	widest admission.Widest
	mu     sync.Mutex
	snap   *snapshot.Snapshot
	loaded time.Time
}

func (s *sourceCheck) allowed(ctx context.Context, addr netip.Addr) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.loaded) > s.ttl {
		snap, _, err := s.store.Load(ctx)
		switch {
		case errors.Is(err, snapshot.ErrNotFound):
			snap = nil // no snapshot yet: no address is known to be Atlas's
		case err != nil:
			return false, fmt.Errorf("source check: %w", err)
		}
		s.snap, s.loaded = snap, time.Now()
	}
	if s.snap == nil {
		return false, nil
	}
	for _, regions := range s.snap.ControlPlane.Outbound {
		for _, set := range regions {
			// Only what admission admits counts: a snapshot an earlier
			// version recorded with 0.0.0.0/0 in it must not let anyone in.
			if admission.Admitted(set, s.widest).ContainsAddr(addr) {
				return true, nil
			}
		}
	}
	return false, nil
}
