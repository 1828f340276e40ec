package atlas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// ProviderIPs maps cloud provider → region → addresses, as the control-plane
// answer groups them.
type ProviderIPs map[string]map[string]ipset.Set

// ControlPlane is Atlas's control-plane answer, every value parsed.
type ControlPlane struct {
	Inbound  ProviderIPs `json:"inbound"`
	Outbound ProviderIPs `json:"outbound"`
	Gateways []Gateway   `json:"gateways,omitempty"`
}

// Gateway is one entry of the newer "gateways" part of the control-plane answer.
type Gateway struct {
	Name     string      `json:"name"`
	Inbound  ProviderIPs `json:"inbound"`
	Outbound ProviderIPs `json:"outbound"`
}

// Cluster holds the node addresses of one cluster.
type Cluster struct {
	Name           string    `json:"clusterName"`
	Inbound        ipset.Set `json:"inbound"`
	Outbound       ipset.Set `json:"outbound"`
	FutureInbound  ipset.Set `json:"futureInbound"`
	FutureOutbound ipset.Set `json:"futureOutbound"`
}

// Project holds the node addresses of every cluster of one project.
type Project struct {
	GroupID  string    `json:"groupId"`
	Clusters []Cluster `json:"clusters"`
}

// Wire shapes: strings as Atlas sends them. Unknown fields are ignored (Atlas
// adds fields over time); every address is parsed strictly.
type wireProviderIPs map[string]map[string][]string

type wireControlPlane struct {
	Inbound  wireProviderIPs `json:"inbound"`
	Outbound wireProviderIPs `json:"outbound"`
	Gateways []struct {
		Name string `json:"name"`
		IPs  struct {
			Inbound  wireProviderIPs `json:"inbound"`
			Outbound wireProviderIPs `json:"outbound"`
		} `json:"ips"`
	} `json:"gateways"`
}

type wireGroupIPs struct {
	GroupID  string `json:"groupId"`
	Services *struct {
		Clusters []struct {
			ClusterName    string   `json:"clusterName"`
			Inbound        []string `json:"inbound"`
			Outbound       []string `json:"outbound"`
			FutureInbound  []string `json:"futureInbound"`
			FutureOutbound []string `json:"futureOutbound"`
		} `json:"clusters"`
	} `json:"services"`
}

// decodeObject rejects anything that is not a single JSON object.
func decodeObject(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(trimmed, v)
}

func parseProviderIPs(where string, w wireProviderIPs) (ProviderIPs, error) {
	out := make(ProviderIPs, len(w))
	for _, provider := range slices.Sorted(maps.Keys(w)) {
		regions := w[provider]
		out[provider] = make(map[string]ipset.Set, len(regions))
		for _, region := range slices.Sorted(maps.Keys(regions)) {
			s, err := ipset.Parse(regions[region])
			if err != nil {
				return nil, fmt.Errorf("%s.%s.%s: %w", where, provider, region, err)
			}
			out[provider][region] = s
		}
	}
	return out, nil
}

func parseControlPlane(body []byte) (ControlPlane, error) {
	var w wireControlPlane
	if err := decodeObject(body, &w); err != nil {
		return ControlPlane{}, err
	}
	var cp ControlPlane
	var err error
	if cp.Inbound, err = parseProviderIPs("inbound", w.Inbound); err != nil {
		return ControlPlane{}, err
	}
	if cp.Outbound, err = parseProviderIPs("outbound", w.Outbound); err != nil {
		return ControlPlane{}, err
	}
	for i, g := range w.Gateways {
		where := fmt.Sprintf("gateways[%d]", i)
		gw := Gateway{Name: g.Name}
		if gw.Inbound, err = parseProviderIPs(where+".inbound", g.IPs.Inbound); err != nil {
			return ControlPlane{}, err
		}
		if gw.Outbound, err = parseProviderIPs(where+".outbound", g.IPs.Outbound); err != nil {
			return ControlPlane{}, err
		}
		cp.Gateways = append(cp.Gateways, gw)
	}
	return cp, nil
}

func parseGroupIPs(groupID string, body []byte) (Project, error) {
	var w wireGroupIPs
	if err := decodeObject(body, &w); err != nil {
		return Project{}, err
	}
	if w.GroupID != "" && w.GroupID != groupID {
		return Project{}, fmt.Errorf("answer is for project %q, asked for %q", w.GroupID, groupID)
	}
	if w.Services == nil {
		return Project{}, errors.New(`no "services" object`)
	}
	p := Project{GroupID: groupID, Clusters: []Cluster{}}
	seen := map[string]bool{}
	for i, c := range w.Services.Clusters {
		if c.ClusterName == "" {
			return Project{}, fmt.Errorf("services.clusters[%d]: no clusterName", i)
		}
		if seen[c.ClusterName] {
			return Project{}, fmt.Errorf("services.clusters[%d]: cluster %q listed twice", i, c.ClusterName)
		}
		seen[c.ClusterName] = true
		cl := Cluster{Name: c.ClusterName}
		fields := []struct {
			name string
			in   []string
			out  *ipset.Set
		}{
			{"inbound", c.Inbound, &cl.Inbound},
			{"outbound", c.Outbound, &cl.Outbound},
			{"futureInbound", c.FutureInbound, &cl.FutureInbound},
			{"futureOutbound", c.FutureOutbound, &cl.FutureOutbound},
		}
		for _, f := range fields {
			s, err := ipset.Parse(f.in)
			if err != nil {
				return Project{}, fmt.Errorf("cluster %q %s: %w", c.ClusterName, f.name, err)
			}
			*f.out = s
		}
		p.Clusters = append(p.Clusters, cl)
	}
	sort.Slice(p.Clusters, func(i, j int) bool { return p.Clusters[i].Name < p.Clusters[j].Name })
	return p, nil
}
