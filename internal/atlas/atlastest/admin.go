package atlastest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The scripting API, served under /_sim/ once EnableAdmin is called, so that
// the standalone simulator can be driven from a shell (the demo) as tests
// drive it through methods:
//
//	PUT    /_sim/controlPlane                    body: ControlPlaneIPs
//	PUT    /_sim/groups/{id}                     body: [Cluster]
//	DELETE /_sim/groups/{id}
//	PUT    /_sim/groups/{id}/encryptionAtRest    body: {"valid": bool, "after": answers}
//	POST   /_sim/faults                          body: {"endpoint","times","status","retryAfter","body","delay":"500ms","truncate","invalidCidr","reset"}
//	DELETE /_sim/faults
//	GET    /_sim/counts                          → {"requests": {endpoint: n}, "calls": {endpoint: n}}
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	enabled := s.admin
	s.mu.Unlock()
	if !enabled {
		writeError(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "Cannot find resource "+r.URL.Path+".")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /_sim/controlPlane", func(w http.ResponseWriter, r *http.Request) {
		var cp ControlPlaneIPs
		if decodeAdmin(w, r, &cp) {
			s.SetControlPlane(cp)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("PUT /_sim/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		var cs []Cluster
		if decodeAdmin(w, r, &cs) {
			s.SetProject(r.PathValue("id"), cs...)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("DELETE /_sim/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.RemoveProject(r.PathValue("id"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /_sim/groups/{id}/encryptionAtRest", func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			Valid bool
			After int // answers to give before valid takes this value
		}
		if decodeAdmin(w, r, &v) {
			s.SetEncryptionAtRestValidAfter(r.PathValue("id"), v.Valid, v.After)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			Endpoint Endpoint `json:"endpoint"`
			Times    int      `json:"times"`
			Delay    string   `json:"delay"`
			Fault
		}
		if !decodeAdmin(w, r, &v) {
			return
		}
		if v.Delay != "" {
			d, err := time.ParseDuration(v.Delay)
			if err != nil {
				http.Error(w, fmt.Sprintf("delay: %v", err), http.StatusBadRequest)
				return
			}
			v.Fault.Delay = d
		}
		if v.Times <= 0 {
			v.Times = 1
		}
		s.InjectFault(v.Endpoint, v.Fault, v.Times)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/counts", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		out := map[string]map[Endpoint]int{"requests": cloneJSON(s.requests), "calls": cloneJSON(s.calls)}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.ServeHTTP(w, r)
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
