package atlas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

const mediaAccessList = "application/vnd.atlas.2023-01-01+json"

// AccessEntry is one entry of a project's IP access list.
type AccessEntry struct {
	CIDRBlock        string `json:"cidrBlock,omitempty"`
	IPAddress        string `json:"ipAddress,omitempty"`
	AWSSecurityGroup string `json:"awsSecurityGroup,omitempty"`
	Comment          string `json:"comment,omitempty"`
}

// Value is the entry's address: its CIDR block, else its IP address, else
// its AWS security group.
func (e AccessEntry) Value() string {
	switch {
	case e.CIDRBlock != "":
		return e.CIDRBlock
	case e.IPAddress != "":
		return e.IPAddress
	}
	return e.AWSSecurityGroup
}

// AccessList reads a project's IP access list, every page.
func (c *Client) AccessList(ctx context.Context, groupID string) ([]AccessEntry, error) {
	var all []AccessEntry
	for page := 1; ; page++ {
		var doc struct {
			Results    []AccessEntry `json:"results"`
			TotalCount *int          `json:"totalCount"`
		}
		path := fmt.Sprintf("/api/atlas/v2/groups/%s/accessList?itemsPerPage=500&pageNum=%d&includeCount=true", url.PathEscape(groupID), page)
		err := c.do(ctx, call{method: "GET", path: path, accept: mediaAccessList, authenticated: true}, func(b []byte) error {
			if err := json.Unmarshal(b, &doc); err != nil {
				return err
			}
			if doc.Results == nil {
				// Atlas answers an empty list as []; null or a missing
				// field is no answer to trust as "no entries".
				return fmt.Errorf("access list of project %s: the answer's \"results\" is null or missing, not a list (page %d)", groupID, page)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		all = append(all, doc.Results...)
		if len(doc.Results) < 500 || (doc.TotalCount != nil && len(all) >= *doc.TotalCount) {
			return all, nil
		}
	}
}

// AddAccessEntry adds one entry (or updates its comment). Atlas refuses
// concurrent changes to one list: callers add one entry at a time.
func (c *Client) AddAccessEntry(ctx context.Context, groupID string, e AccessEntry) error {
	body, err := json.Marshal([]AccessEntry{e})
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: "POST", path: "/api/atlas/v2/groups/" + url.PathEscape(groupID) + "/accessList", accept: mediaAccessList, authenticated: true, body: body},
		func([]byte) error { return nil })
}

// DeleteAccessEntry removes the entry for value (a CIDR block, an IP
// address or a security group). An entry already gone is no error.
func (c *Client) DeleteAccessEntry(ctx context.Context, groupID, value string) error {
	err := c.do(ctx, call{method: "DELETE", path: "/api/atlas/v2/groups/" + url.PathEscape(groupID) + "/accessList/" + url.PathEscape(value), accept: mediaAccessList, authenticated: true},
		func([]byte) error { return nil })
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.ErrorCode != "GROUP_NOT_FOUND" {
		return nil
	}
	return err
}
