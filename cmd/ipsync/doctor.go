package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/doctor"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/atlasconn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

// cmdDoctor checks the setup, one line per check; exit 1 when one failed.
func cmdDoctor(ctx context.Context, e env, args []string) int {
	fs, cfgPath, _ := newFlags(e, "doctor")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	s, store, code := loadStore(ctx, e, *cfgPath)
	if code >= 0 {
		return code
	}
	d := doctor.Deps{Config: s.cfg, Store: store}
	client, err := atlasconn.Client(ctx, s.cfg, s.awsCfg, e.getenv, s.log)
	if err != nil {
		d.AtlasErr = err
	} else {
		d.Atlas = client
	}
	d.Adapters = reconciler.Fences(s.cfg, s.awsCfg, client)
	if d.Atlas == nil {
		// Without credentials the public control-plane list can still be read.
		if public, perr := atlas.New(atlas.Options{BaseURL: s.cfg.Atlas.BaseURL, Logger: s.log}); perr == nil {
			d.Atlas, d.AtlasErr = credentialless{public, d.AtlasErr}, nil
		}
	}
	if s.cfg.Notify.TopicArn != "" {
		d.Topic = sns.NewFromConfig(s.awsCfg)
	}
	if s.cfg.Trigger.QueueURL != "" {
		d.Queue = sqs.NewFromConfig(s.awsCfg)
	}
	checks := doctor.Run(ctx, d)
	counts := map[doctor.Status]int{}
	for _, c := range checks {
		counts[c.Status]++
		fmt.Fprintf(e.stdout, "%-4s  %-28s %s\n", c.Status, c.Name, strings.ReplaceAll(c.Detail, "\n", "\n      "))
	}
	fmt.Fprintf(e.stdout, "\n%d checks: %d ok, %d warnings, %d failed.\n", len(checks), counts[doctor.OK], counts[doctor.Warn], counts[doctor.Fail])
	if doctor.Failed(checks) {
		return exitError
	}
	return exitOK
}

// credentialless answers the public control-plane list and fails every
// authenticated call with the reason the credentials could not be read.
type credentialless struct {
	*atlas.Client
	why error
}

func (c credentialless) Project(context.Context, string) (atlas.Project, error) {
	return atlas.Project{}, fmt.Errorf("atlas credentials: %w", c.why)
}

func (c credentialless) EncryptionAtRest(context.Context, string) (atlas.EncryptionAtRest, error) {
	return atlas.EncryptionAtRest{}, fmt.Errorf("atlas credentials: %w", c.why)
}
