package main

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/culvert/culvert/internal/leader"
)

// healthHandler answers GET /healthz: 200 "ok" once the server is ready,
// 503 before. With ?detail it answers JSON that says which store the node
// runs on and who leads, for operators and load balancers that want more
// than up or down.
func healthHandler(ready *atomic.Bool, storeKind string, elector *leader.Elector) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := ready.Load()
		if !r.URL.Query().Has("detail") {
			if !up {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok\n"))
			return
		}
		st := elector.Status()
		type leaderDetail struct {
			Shared  bool   `json:"shared"`
			Self    bool   `json:"self"`
			Holder  string `json:"holder,omitempty"`
			Term    int64  `json:"term,omitempty"`
			Since   string `json:"since,omitempty"`
			Changes int64  `json:"changes"`
		}
		detail := struct {
			Status  string       `json:"status"`
			Version string       `json:"version"`
			Store   string       `json:"store"`
			Node    string       `json:"node"`
			Leader  leaderDetail `json:"leader"`
		}{
			Status: "ok", Version: version, Store: storeKind, Node: st.Self,
			Leader: leaderDetail{Shared: st.Shared, Self: st.Leader, Holder: st.Holder, Term: st.Term, Changes: st.Changes},
		}
		if !st.Since.IsZero() {
			detail.Leader.Since = st.Since.UTC().Format(time.RFC3339Nano)
		}
		code := http.StatusOK
		if !up {
			detail.Status, code = "starting", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(detail)
	})
}
