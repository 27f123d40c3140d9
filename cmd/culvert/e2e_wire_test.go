package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the response sections of testdata/wire/*.txtar from what the server answers")

// Wire goldens pin raw HTTP exchanges with a running server, in the spirit
// of the SDKs' protocol snapshot tests. Each testdata/wire/*.txtar file is:
//
//	free text describing the case
//	-- request --
//	METHOD PATH
//	Header: value
//	X-Test-Sign: AKID [SECRET]    (optional: sign now; the dev key needs no secret)
//
//	body
//	-- response --
//	HTTP/1.1 STATUS TEXT
//	Header: value                 (each listed header must match; * = present)
//
//	body                          (JSON compares as JSON, "*" matching any
//	                               non-empty string; else exactly)
//
// The sections are txtar's: a line "-- name --" starts a section, and the
// body is the section's text without its final newline. Run
// `go test ./cmd/culvert -run TestWire -update` to rewrite the responses.

type wireGolden struct {
	comment  string
	sections map[string]string
	order    []string
}

// parseTxtar reads the txtar format: a comment, then "-- name --" sections.
func parseTxtar(data string) *wireGolden {
	g := &wireGolden{sections: map[string]string{}}
	name, text := "", &strings.Builder{}
	flush := func() {
		if name == "" {
			g.comment = text.String()
		} else {
			g.sections[name] = text.String()
			g.order = append(g.order, name)
		}
		text.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) >= 6 {
			flush()
			name = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			continue
		}
		text.WriteString(line)
	}
	flush()
	return g
}

func (g *wireGolden) format() string {
	var b strings.Builder
	b.WriteString(g.comment)
	for _, name := range g.order {
		fmt.Fprintf(&b, "-- %s --\n", name)
		s := g.sections[name]
		b.WriteString(s)
		if s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// splitMessage splits an HTTP-ish message into its start line, headers and
// body (without the section's final newline).
func splitMessage(t *testing.T, msg string) (start string, hdr [][2]string, body string) {
	t.Helper()
	head, body, _ := strings.Cut(msg, "\n\n")
	body = strings.TrimSuffix(body, "\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("header line %q has no colon", l)
		}
		hdr = append(hdr, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return lines[0], hdr, body
}

// TestWire replays every testdata/wire golden against a fresh server.
func TestWire(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "wire", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/wire/*.txtar goldens")
	}
	s := mustRunServer(t)
	hc := &http.Client{Transport: s.transport, Timeout: 10 * time.Second}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			if !*update {
				t.Parallel()
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g := parseTxtar(string(data))
			reqText, ok := g.sections["request"]
			if !ok {
				t.Fatalf("%s has no request section", file)
			}
			resp, body := doWireRequest(t, hc, s.URL, reqText)
			if *update {
				// Keep the wildcards of the old golden.
				var old, got any
				_, _, oldBody := splitMessage(t, g.sections["response"]+"\n")
				if json.Unmarshal([]byte(oldBody), &old) == nil && json.Unmarshal(body, &got) == nil {
					if masked, err := json.Marshal(maskWildcards(old, got)); err == nil {
						body = masked
					}
				}
				g.sections["response"] = formatWireResponse(resp, body)
				if !contains(g.order, "response") {
					g.order = append(g.order, "response")
				}
				if err := os.WriteFile(file, []byte(g.format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := g.sections["response"]
			if !ok {
				t.Fatalf("%s has no response section; run with -update", file)
			}
			checkWireResponse(t, want, resp, body)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func doWireRequest(t *testing.T, hc *http.Client, baseURL, reqText string) (*http.Response, []byte) {
	t.Helper()
	start, hdr, body := splitMessage(t, reqText)
	method, path, ok := strings.Cut(start, " ")
	if !ok {
		t.Fatalf("request line %q: want METHOD PATH", start)
	}
	path, _, _ = strings.Cut(path, " ") // allow a trailing HTTP/1.1
	req, err := http.NewRequest(method, strings.TrimSuffix(baseURL, "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	var signAs string
	for _, h := range hdr {
		if strings.EqualFold(h[0], "X-Test-Sign") {
			signAs = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	if signAs != "" {
		// "X-Test-Sign: AKID [SECRET]": sign now, with SECRET or, for the
		// development key, its real secret.
		akid, secret, _ := strings.Cut(signAs, " ")
		if secret == "" && akid == devAccessKeyID {
			secret = devSecret
		}
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "datapipeline", "us-east-1", time.Now()); err != nil {
			t.Fatalf("signing: %v", err)
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp, got
}

// wireHeaders are the response headers -update records.
var wireHeaders = []string{"Content-Type", "X-Amzn-Errortype", "X-Amzn-Requestid", "Allow"}

func formatWireResponse(resp *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	for _, h := range wireHeaders {
		v := resp.Header.Get(h)
		switch {
		case v == "":
			continue
		case h == "X-Amzn-Requestid":
			v = "*"
		}
		fmt.Fprintf(&b, "%s: %s\n", h, v)
	}
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	return b.String()
}

func checkWireResponse(t *testing.T, want string, resp *http.Response, body []byte) {
	t.Helper()
	start, hdr, wantBody := splitMessage(t, want)
	fields := strings.Fields(start)
	if len(fields) < 2 {
		t.Fatalf("status line %q: want HTTP/1.1 STATUS", start)
	}
	wantStatus, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatalf("status line %q: %v", start, err)
	}
	if resp.StatusCode != wantStatus {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, wantStatus, body)
	}
	for _, h := range hdr {
		got := resp.Header.Get(h[0])
		switch {
		case h[1] == "*" && got == "":
			t.Errorf("header %s missing", h[0])
		case h[1] != "*" && got != h[1]:
			t.Errorf("header %s = %q, want %q", h[0], got, h[1])
		}
	}
	// A JSON body compares as JSON, so key order and spacing are free;
	// strings are exact except that "*" matches any non-empty string.
	var wantJSON, gotJSON any
	if json.Unmarshal([]byte(wantBody), &wantJSON) == nil {
		if err := json.Unmarshal(body, &gotJSON); err != nil {
			t.Fatalf("body %q is not JSON: %v", body, err)
		}
		if diff := cmp.Diff(wantJSON, maskWildcards(wantJSON, gotJSON)); diff != "" {
			t.Errorf("body mismatch (-want +got):\n%s", diff)
		}
		return
	}
	if string(body) != wantBody {
		t.Errorf("body = %q, want %q", body, wantBody)
	}
}

// maskWildcards returns got with "*" wherever want has "*" and got has a
// non-empty string.
func maskWildcards(want, got any) any {
	switch w := want.(type) {
	case string:
		if s, ok := got.(string); ok && w == "*" && s != "" {
			return "*"
		}
	case map[string]any:
		if g, ok := got.(map[string]any); ok {
			out := make(map[string]any, len(g))
			for k, v := range g {
				out[k] = maskWildcards(w[k], v)
			}
			return out
		}
	case []any:
		if g, ok := got.([]any); ok {
			out := make([]any, len(g))
			for i, v := range g {
				if i < len(w) {
					v = maskWildcards(w[i], v)
				}
				out[i] = v
			}
			return out
		}
	}
	return got
}
