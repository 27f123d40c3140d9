package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
)

// TestHealthDetailAndMetrics checks what an operator watches on a node:
// /healthz?detail names the store and the leader (a node on its own
// SQLite file always leads), and /metrics counts API calls by operation
// and error code and says the node leads.
func TestHealthDetailAndMetrics(t *testing.T) {
	t.Parallel()
	srv := mustRunServer(t)
	h, err := nodeHealth(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.Store != "sqlite" || !h.Leader.Self || h.Leader.Shared || h.Leader.Holder != h.Node || h.Node == "" {
		t.Errorf("GET /healthz?detail = %+v, want an ok sqlite node leading alone", h)
	}

	c := srv.devClient()
	ctx := context.Background()
	if _, err := c.ListPipelines(ctx, &datapipeline.ListPipelinesInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{"df-NOSUCHPIPELINE0"}}); err == nil {
		t.Fatal("DescribePipelines of no pipeline succeeded")
	}
	resp, err := http.Get(srv.URL + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`culvert_api_requests_total{operation="ListPipelines",code=""} 1`,
		`culvert_api_requests_total{operation="DescribePipelines",code="PipelineNotFoundException"} 1`,
		`culvert_api_request_duration_seconds_count{operation="ListPipelines"} 1`,
		`culvert_leader 1`,
		`culvert_leader_term 1`,
		`culvert_info{version="dev",store="sqlite"} 1`,
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).Match(body) {
			t.Errorf("GET /metrics lacks %q; got:\n%s", want, body)
		}
	}
}
