package main

import (
	"fmt"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
)

// cmdConfig validates the config file and prints it as the one-line JSON
// the functions read from IPSYNC_CONFIG (they link no YAML parser). It makes
// no call: a newcomer can check a config before any credential exists.
func cmdConfig(e env, args []string) int {
	fs, path, _ := newFlags(e, "config")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	c, err := configfile.Load(*path)
	if err != nil {
		return fail(e, nil, err)
	}
	b, err := config.Marshal(c)
	if err != nil {
		return fail(e, nil, fmt.Errorf("write config: %w", err))
	}
	fmt.Fprintf(e.stdout, "%s\n", b)
	return exitOK
}
