package atlastest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// The project IP access list endpoints.
const (
	AccessList       Endpoint = "accessList"       // GET    /groups/{id}/accessList
	AccessListAdd    Endpoint = "accessListAdd"    // POST   /groups/{id}/accessList
	AccessListDelete Endpoint = "accessListDelete" // DELETE /groups/{id}/accessList/{entryValue}
)

// AccessEntry is one entry of a project's IP access list, as Atlas sends it.
type AccessEntry struct {
	CIDRBlock        string `json:"cidrBlock,omitempty"`
	IPAddress        string `json:"ipAddress,omitempty"`
	AWSSecurityGroup string `json:"awsSecurityGroup,omitempty"`
	Comment          string `json:"comment,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
}

// key is what the entry is found and deleted by.
func (e AccessEntry) key() string {
	if e.AWSSecurityGroup != "" {
		return e.AWSSecurityGroup
	}
	return e.CIDRBlock
}

// SetAccessList replaces a project's IP access list.
func (s *Server) SetAccessList(groupID string, entries ...AccessEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessLists[groupID] = nil
	for _, e := range entries {
		if n, err := normalize(e); err == nil {
			n.GroupID = groupID
			s.accessLists[groupID] = append(s.accessLists[groupID], n)
		}
	}
}

// AccessListOf returns a project's IP access list, sorted.
func (s *Server) AccessListOf(groupID string) []AccessEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Never nil: Atlas answers an empty list as "results": [] (the spec's
	// schema), and the simulator encodes what this returns.
	out := append([]AccessEntry{}, s.accessLists[groupID]...)
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// normalize stores a CIDR with its host bits cleared and a single address
// also as ipAddress, as Atlas answers.
func normalize(e AccessEntry) (AccessEntry, error) {
	set := 0
	for _, v := range []string{e.CIDRBlock, e.IPAddress, e.AWSSecurityGroup} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return e, fmt.Errorf("an entry has exactly one of cidrBlock, ipAddress and awsSecurityGroup")
	}
	if e.AWSSecurityGroup != "" {
		return e, nil
	}
	v := e.CIDRBlock
	if v == "" {
		v = e.IPAddress
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		a, aerr := netip.ParseAddr(v)
		if aerr != nil {
			return e, fmt.Errorf("%q is not an IP address or CIDR block", v)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = p.Masked()
	e.CIDRBlock, e.IPAddress = p.String(), ""
	if p.Bits() == p.Addr().BitLen() {
		e.IPAddress = p.Addr().String()
	}
	return e, nil
}

func (s *Server) serveAccessList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("groupId")
	s.mu.Lock()
	_, known := s.projects[id]
	s.mu.Unlock()
	if !known {
		s.countCall(AccessList)
		writeError(w, http.StatusNotFound, "GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", id), id)
		return
	}
	per, page := 100, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("itemsPerPage")); err == nil && v >= 1 && v <= 500 {
		per = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("pageNum")); err == nil && v >= 1 {
		page = v
	}
	all := s.AccessListOf(id)
	from, to := min((page-1)*per, len(all)), min(page*per, len(all))
	s.answer(w, r, AccessList, mediaV1, map[string]any{"results": all[from:to], "totalCount": len(all), "links": []any{}}, nil)
}

// serveAccessListAdd adds or updates entries. Atlas refuses a POST while
// another one to the same list is being handled; the simulator does the
// same, with a 400 (the spec lists no 409 for this operation; the error
// code is the simulator's own).
func (s *Server) serveAccessListAdd(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("groupId")
	// The first POST to claim the list holds it until it has answered;
	// one arriving meanwhile is refused, whichever was sent first.
	s.mu.Lock()
	_, known := s.projects[id]
	concurrent := s.listBusy[id]
	if known && !concurrent {
		s.listBusy[id] = true
		defer func() { s.mu.Lock(); delete(s.listBusy, id); s.mu.Unlock() }()
	}
	s.mu.Unlock()
	if !known {
		s.countCall(AccessListAdd)
		writeError(w, http.StatusNotFound, "GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", id), id)
		return
	}
	// An error status refuses the POST before anything is added, as a failed
	// request does; other faults (a truncated answer) come after the change,
	// through answer, as a lost answer does.
	if f, faulty := s.takeFault(AccessListAdd, func(f Fault) bool { return f.Status >= 300 }); faulty {
		s.countCall(AccessListAdd)
		applyFault(w, r, f)
		return
	}
	if concurrent {
		s.countCall(AccessListAdd)
		writeError(w, http.StatusBadRequest, "CONCURRENT_ACCESS_LIST_UPDATE", "Another change to this project's IP access list is in progress; retry after it.")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, mediaV1) {
		s.countCall(AccessListAdd)
		writeError(w, http.StatusBadRequest, "INVALID_MEDIA_TYPE", "Send "+mediaV1+", not "+ct+".")
		return
	}
	var in []AccessEntry
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil || len(in) == 0 {
		s.countCall(AccessListAdd)
		writeError(w, http.StatusBadRequest, "INVALID_JSON", "The body is not a JSON array of access list entries.")
		return
	}
	var add []AccessEntry
	for _, e := range in {
		if len(e.Comment) > 80 {
			s.countCall(AccessListAdd)
			writeError(w, http.StatusBadRequest, "INVALID_ATTRIBUTE", "comment: at most 80 characters.")
			return
		}
		n, err := normalize(e)
		if err != nil {
			s.countCall(AccessListAdd)
			writeError(w, http.StatusBadRequest, "INVALID_ATTRIBUTE", err.Error())
			return
		}
		n.GroupID = id
		add = append(add, n)
	}
	s.mu.Lock()
	for _, n := range add {
		replaced := false
		for i, e := range s.accessLists[id] {
			if e.key() == n.key() {
				s.accessLists[id][i], replaced = n, true // Atlas updates the comment
			}
		}
		if !replaced {
			s.accessLists[id] = append(s.accessLists[id], n)
		}
	}
	s.mu.Unlock()
	all := s.AccessListOf(id)
	s.answer(w, r, AccessListAdd, mediaV1, map[string]any{"results": all, "totalCount": len(all), "links": []any{}}, nil)
}

func (s *Server) serveAccessListDelete(w http.ResponseWriter, r *http.Request) {
	id, value := r.PathValue("groupId"), r.PathValue("entryValue")
	s.countCall(AccessListDelete)
	if f, faulty := s.nextFault(AccessListDelete); faulty && applyFault(w, r, f) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, known := s.projects[id]; !known {
		writeError(w, http.StatusNotFound, "GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", id), id)
		return
	}
	want := value
	if n, err := normalize(AccessEntry{CIDRBlock: value}); err == nil {
		want = n.CIDRBlock
	}
	list := s.accessLists[id]
	for i, e := range list {
		if e.key() == want {
			s.accessLists[id] = append(list[:i:i], list[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusNotFound, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", fmt.Sprintf("IP address %s not found in the IP access list of group %s.", value, id), value, id)
}
