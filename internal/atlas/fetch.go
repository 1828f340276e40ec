package atlas

import (
	"context"
	"fmt"
	"net/url"

	"golang.org/x/sync/errgroup"
)

// ControlPlane fetches the control-plane addresses (no authentication).
func (c *Client) ControlPlane(ctx context.Context) (ControlPlane, error) {
	var cp ControlPlane
	err := c.do(ctx, call{method: "GET", path: "/api/atlas/v2/unauth/controlPlaneIPAddresses", accept: mediaControlPlane},
		func(b []byte) (err error) { cp, err = parseControlPlane(b); return err })
	return cp, err
}

// Project fetches the node addresses of one project's clusters.
func (c *Client) Project(ctx context.Context, groupID string) (Project, error) {
	var p Project
	err := c.do(ctx, call{method: "GET", path: "/api/atlas/v2/groups/" + url.PathEscape(groupID) + "/ipAddresses", accept: mediaGroupIPs, authenticated: true},
		func(b []byte) (err error) { p, err = parseGroupIPs(groupID, b); return err })
	return p, err
}

// Answer is everything Atlas said in one fetch.
type Answer struct {
	ControlPlane ControlPlane
	Projects     []Project // in the order asked for
}

// FetchAll fetches the control plane and every project concurrently, at most
// Options.Concurrency at once. Any failure fails the whole fetch and cancels
// the calls still running: a partial answer must never reach a policy.
func (c *Client) FetchAll(ctx context.Context, groupIDs []string) (Answer, error) {
	ans := Answer{Projects: make([]Project, len(groupIDs))}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	g.Go(func() error {
		cp, err := c.ControlPlane(gctx)
		if err != nil {
			return fmt.Errorf("fetch control-plane addresses: %w", err)
		}
		ans.ControlPlane = cp
		return nil
	})
	for i, id := range groupIDs {
		g.Go(func() error {
			p, err := c.Project(gctx, id)
			if err != nil {
				return fmt.Errorf("fetch node addresses of project %s: %w", id, err)
			}
			ans.Projects[i] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Answer{}, err
	}
	return ans, nil
}
