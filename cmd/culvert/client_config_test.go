package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveEndpoint(t *testing.T) {
	t.Parallel()
	const (
		dp  = "AWS_ENDPOINT_URL_DATA_PIPELINE"
		gen = "AWS_ENDPOINT_URL"
	)
	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "flag first", flag: "http://flag:1/", env: map[string]string{dp: "http://dp:2/", gen: "http://gen:3/"}, want: "http://flag:1/"},
		{name: "Data Pipeline's variable next", env: map[string]string{dp: "http://dp:2/", gen: "http://gen:3/"}, want: "http://dp:2/"},
		{name: "every service's variable next", env: map[string]string{gen: "http://gen:3/"}, want: "http://gen:3/"},
		{name: "culvert serve's default last", want: "http://127.0.0.1:8080/"},
		{name: "no scheme is http", flag: "localhost:9000", want: "http://localhost:9000"},
		{name: "https kept", flag: "https://culvert.example.com/", want: "https://culvert.example.com/"},
		{name: "not http", flag: "ftp://culvert.example.com/", wantErr: true},
		{name: "no host", flag: "http:///", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := resolveEndpoint(tc.flag, func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("resolveEndpoint(%q) error = %v, want error %v", tc.flag, err, tc.wantErr)
			}
			if err == nil && u.String() != tc.want {
				t.Errorf("resolveEndpoint(%q) = %s, want %s", tc.flag, u, tc.want)
			}
		})
	}
}

// TestCLIEndpointResolution pins the order end to end: --endpoint, then
// CULVERT_ENDPOINT (as for every flag), then AWS_ENDPOINT_URL_DATA_PIPELINE,
// then AWS_ENDPOINT_URL. A variable later in the order points at the
// server and one earlier at a dead port, or the other way round.
func TestCLIEndpointResolution(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	dead := closedPortURL(t)
	tests := []struct {
		name              string
		flag, culvert     string
		dataPipeline, any string
		wantReach         string // the endpoint used: s.URL, or dead
	}{
		{name: "flag over everything", flag: s.URL, culvert: dead, dataPipeline: dead, any: dead, wantReach: s.URL},
		{name: "CULVERT_ENDPOINT over the AWS variables", culvert: s.URL, dataPipeline: dead, any: dead, wantReach: s.URL},
		{name: "Data Pipeline's variable used", dataPipeline: s.URL, any: dead, wantReach: s.URL},
		{name: "Data Pipeline's variable first", dataPipeline: dead, any: s.URL, wantReach: dead},
		{name: "every service's variable used", any: s.URL, wantReach: s.URL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL_DATA_PIPELINE", tc.dataPipeline)
			t.Setenv("AWS_ENDPOINT_URL", tc.any)
			args := []string{"list", "--json"}
			if tc.flag != "" {
				args = append(args, "--endpoint", tc.flag)
			}
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
				if k == "CULVERT_ENDPOINT" {
					return tc.culvert
				}
				return cliEnv(k)
			}}
			err := m.Run(context.Background(), args)
			switch tc.wantReach {
			case s.URL:
				if err != nil || !strings.Contains(stdout.String(), "pipelineDescriptionList") {
					t.Errorf("culvert list: err %v, stdout %q; want the server's (empty) list", err, stdout.String())
				}
			default:
				if err == nil || !strings.HasPrefix(err.Error(), "cannot reach "+tc.wantReach) {
					t.Errorf("culvert list: err %v, want cannot reach %s", err, tc.wantReach)
				}
			}
		})
	}
}

// TestCLICredentials pins where the client verbs take their key from. The
// server knows the development key and a second key, each in its own
// account with one pipeline, so what `culvert list` shows says which key
// signed.
func TestCLICredentials(t *testing.T) {
	hermeticAWS(t)
	const (
		cliKey    = "AKIDCLITEST"
		cliSecret = "cli/test/secret"
	)
	dir := t.TempDir()
	keys := writeFile(t, "keys", devAccessKeyID+" "+devSecret+" "+devAccount+"\n"+cliKey+" "+cliSecret+" 111111111111\n")
	s := mustRunServer(t, "--credentials", keys)
	mustCreate(t, s.devClient(), "dev-pipeline", "dev")
	mustCreate(t, s.client(cliKey, cliSecret), "cli-pipeline", "cli")

	profiles := filepath.Join(dir, "credentials")
	if err := os.WriteFile(profiles, []byte("[cli]\naws_access_key_id = "+cliKey+"\naws_secret_access_key = "+cliSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	defaultProfile := filepath.Join(dir, "default-credentials")
	if err := os.WriteFile(defaultProfile, []byte("[default]\naws_access_key_id = "+cliKey+"\naws_secret_access_key = "+cliSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantNames []string // the pipelines listed
		wantErr   string   // or the start of the error
	}{
		{name: "nothing configured: the development key on loopback", wantNames: []string{"dev-pipeline"}},
		{name: "environment keys", env: map[string]string{"AWS_ACCESS_KEY_ID": cliKey, "AWS_SECRET_ACCESS_KEY": cliSecret}, wantNames: []string{"cli-pipeline"}},
		{name: "--profile", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": profiles}, args: []string{"--profile", "cli"}, wantNames: []string{"cli-pipeline"}},
		{name: "AWS_PROFILE", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": profiles, "AWS_PROFILE": "cli"}, wantNames: []string{"cli-pipeline"}},
		{name: "the default profile", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": defaultProfile}, wantNames: []string{"cli-pipeline"}},
		{name: "a region of the user's", env: map[string]string{"AWS_REGION": "eu-west-1"}, wantNames: []string{"dev-pipeline"}},
		{name: "unknown profile", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": profiles}, args: []string{"--profile", "nope"}, wantErr: "AWS configuration: "},
		{name: "configured but wrong: no fallback", env: map[string]string{"AWS_ACCESS_KEY_ID": cliKey, "AWS_SECRET_ACCESS_KEY": "wrong"}, wantErr: "InvalidSignatureException: "},
		{name: "unknown key: no fallback", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN", "AWS_SECRET_ACCESS_KEY": "x"}, wantErr: "UnrecognizedClientException: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, _, err := runCLI(t, append([]string{"list", "--json", "--endpoint", s.URL}, tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("culvert list: err = %v, want one starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("culvert list: %v", err)
			}
			var listed struct {
				PipelineDescriptionList []struct{ Name string } `json:"pipelineDescriptionList"`
			}
			if err := json.Unmarshal([]byte(out), &listed); err != nil {
				t.Fatalf("list --json: %v\n%s", err, out)
			}
			var names []string
			for _, d := range listed.PipelineDescriptionList {
				names = append(names, d.Name)
			}
			if diff := cmp.Diff(tc.wantNames, names); diff != "" {
				t.Errorf("pipelines listed mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadAWSConfig pins the fallbacks that cannot be seen through a
// loopback server: away from loopback nothing is made up, neither key nor
// region.
func TestLoadAWSConfig(t *testing.T) {
	hermeticAWS(t)
	tests := []struct {
		name       string
		endpoint   string
		region     string
		env        map[string]string
		wantKey    string // "" when retrieving credentials must fail
		wantRegion string
		wantErr    bool
	}{
		{name: "loopback IPv4", endpoint: "http://127.0.0.1:8080/", wantKey: devAccessKeyID, wantRegion: "us-east-1"},
		{name: "loopback IPv6", endpoint: "http://[::1]:8080/", wantKey: devAccessKeyID, wantRegion: "us-east-1"},
		{name: "localhost", endpoint: "http://localhost:8080/", wantKey: devAccessKeyID, wantRegion: "us-east-1"},
		{name: "loopback with a region", endpoint: "http://127.0.0.1:8080/", region: "eu-west-1", wantKey: devAccessKeyID, wantRegion: "eu-west-1"},
		{name: "loopback with keys", endpoint: "http://127.0.0.1:8080/", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDMINE", "AWS_SECRET_ACCESS_KEY": "s"},
			wantKey: "AKIDMINE", wantRegion: "us-east-1"},
		{name: "remote without a region", endpoint: "https://culvert.example.com/", wantErr: true},
		{name: "remote: no development key", endpoint: "https://culvert.example.com/", region: "eu-west-1", wantRegion: "eu-west-1"},
		{name: "remote with keys", endpoint: "https://culvert.example.com/", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDMINE", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1"},
			wantKey: "AKIDMINE", wantRegion: "eu-west-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			u, err := url.Parse(tc.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			cfg, err := loadAWSConfig(ctx, u, tc.region, "")
			if (err != nil) != tc.wantErr {
				t.Fatalf("loadAWSConfig(%s) error = %v, want error %v", tc.endpoint, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if cfg.Region != tc.wantRegion {
				t.Errorf("region = %q, want %q", cfg.Region, tc.wantRegion)
			}
			creds, err := cfg.Credentials.Retrieve(ctx)
			switch {
			case tc.wantKey == "" && err == nil:
				t.Errorf("credentials = %s, want none (instance metadata is off)", creds.AccessKeyID)
			case tc.wantKey != "" && (err != nil || creds.AccessKeyID != tc.wantKey):
				t.Errorf("credentials = %s, %v; want %s", creds.AccessKeyID, err, tc.wantKey)
			}
		})
	}
}

// TestCLICABundle pins that AWS_CA_BUNDLE reaches the client verbs' HTTP
// client, which culvert wraps (sdkhttp) rather than replaces: an https
// endpoint whose certificate only the bundle vouches for fails without it
// and works with it.
func TestCLICABundle(t *testing.T) {
	hermeticAWS(t)
	s := mustRunServer(t)
	proxy := startCountingProxy(t, s.URL, httptest.NewTLSServer)
	bundle := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.srv.Certificate().Raw})))

	if _, _, err := runCLI(t, "list", "--endpoint", proxy.URL); err == nil || !strings.HasPrefix(err.Error(), "cannot reach "+proxy.URL) {
		t.Errorf("list over TLS without the bundle: err = %v, want cannot reach %s", err, proxy.URL)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if out, _, err := runCLI(t, "list", "--json", "--endpoint", proxy.URL); err != nil || !strings.Contains(out, "pipelineDescriptionList") {
		t.Errorf("list over TLS with AWS_CA_BUNDLE: err %v, stdout %q; want the server's list", err, out)
	}
}
