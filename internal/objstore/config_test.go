package objstore_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/objstore/s3test"
)

// The tests in this file set environment variables, so none is parallel.

// cleanEnv keeps this machine's AWS settings from the SDK for the rest of
// the test: every AWS_ variable is unset, and the shared config and
// credentials files are ones that do not exist until the test writes
// them. It returns their paths.
func cleanEnv(t *testing.T) (configFile, credentialsFile string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restores the value after the test
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	configFile, credentialsFile = filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	t.Setenv("AWS_CONFIG_FILE", configFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credentialsFile)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return configFile, credentialsFile
}

// byHostName is the server's URL with "localhost" for the IP address:
// the SDK addresses buckets of an IP-address endpoint by path whatever
// it is told, so only a host name shows which addressing it chose.
func byHostName(t *testing.T, srv *s3test.Server) (endpoint, host string) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port()
	return u.String(), u.Host
}

// TestLoadEndpoint configures a custom endpoint each way the SDK reads
// one, and checks that Load's Store reaches it path-style, with the
// credentials and region configured alongside
// (docs/assumptions/0018-object-storage.md).
func TestLoadEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name                string
		env                 map[string]string
		config, credentials string
		wantKey, wantRegion string
	}{
		{
			name: "AWS_ENDPOINT_URL_S3",
			env: map[string]string{"AWS_ENDPOINT_URL_S3": "{endpoint}", "AWS_REGION": "eu-west-1",
				"AWS_ACCESS_KEY_ID": "AKIDENVIRONMENT", "AWS_SECRET_ACCESS_KEY": "secret"},
			wantKey: "AKIDENVIRONMENT", wantRegion: "eu-west-1",
		},
		{
			name: "AWS_ENDPOINT_URL",
			env: map[string]string{"AWS_ENDPOINT_URL": "{endpoint}",
				"AWS_ACCESS_KEY_ID": "AKIDENVIRONMENT", "AWS_SECRET_ACCESS_KEY": "secret"},
			wantKey: "AKIDENVIRONMENT", wantRegion: objstore.DefaultRegion,
		},
		{
			name:        "profile endpoint_url",
			env:         map[string]string{"AWS_PROFILE": "selfhosted"},
			config:      "[profile selfhosted]\nregion = eu-central-1\nendpoint_url = {endpoint}\n",
			credentials: "[selfhosted]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = secret\n",
			wantKey:     "AKIDPROFILE", wantRegion: "eu-central-1",
		},
		{
			name: "profile services section",
			env:  map[string]string{"AWS_PROFILE": "selfhosted"},
			config: "[profile selfhosted]\nregion = ap-south-1\nservices = minio\n" +
				"aws_access_key_id = AKIDCONFIGFILE\naws_secret_access_key = secret\n" +
				"[services minio]\ns3 =\n  endpoint_url = {endpoint}\n",
			wantKey: "AKIDCONFIGFILE", wantRegion: "ap-south-1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := s3test.New(t)
			srv.CreateBucket(t, "culvert-env")
			endpoint, host := byHostName(t, srv)
			configFile, credentialsFile := cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, strings.ReplaceAll(v, "{endpoint}", endpoint))
			}
			for file, text := range map[string]string{configFile: tc.config, credentialsFile: tc.credentials} {
				if err := os.WriteFile(file, []byte(strings.ReplaceAll(text, "{endpoint}", endpoint)), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			before := len(srv.Requests())
			st, err := objstore.Load(t.Context(), objstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			put(t, st, "s3://culvert-env/a/k.txt", "v")
			if got := get(t, st, "s3://culvert-env/a/k.txt"); got != "v" {
				t.Errorf("Get = %q, want %q", got, "v")
			}
			reqs := srv.Requests()[before:]
			if len(reqs) != 2 {
				t.Errorf("the server saw %d requests, want 2", len(reqs))
			}
			for _, r := range reqs {
				auth := r.Header.Get("Authorization")
				if r.Host != host || r.Path != "/culvert-env/a/k.txt" ||
					!strings.Contains(auth, "Credential="+tc.wantKey+"/") || !strings.Contains(auth, "/"+tc.wantRegion+"/s3/aws4_request") {
					t.Errorf("%s %s%s with %q; want path-style to %s, signed by %s for %s",
						r.Method, r.Host, r.Path, auth, host, tc.wantKey, tc.wantRegion)
				}
			}
		})
	}
}

// TestSDKAloneAddressesByHostName is TestLoadEndpoint's control: the same
// configuration without objstore addresses the bucket by host name, so
// the path-style requests seen there are objstore's doing.
func TestSDKAloneAddressesByHostName(t *testing.T) {
	srv := s3test.New(t)
	endpoint, host := byHostName(t, srv)
	cleanEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	// Whatever the host name, dial the server.
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	cfg.RetryMaxAttempts = 1
	s3.NewFromConfig(cfg).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("culvert-env"), Key: aws.String("k")})
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Host != "culvert-env."+host || reqs[0].Path != "/k" {
		t.Errorf("requests %+v; want one to culvert-env.%s/k", reqs, host)
	}
}

// TestRegion pins the region's precedence: Config.Region, then the SDK
// configuration's, then DefaultRegion.
func TestRegion(t *testing.T) {
	for _, tc := range []struct {
		name, cfg, env, want string
	}{
		{"Config.Region", "eu-west-2", "ap-south-1", "eu-west-2"},
		{"AWS_REGION", "", "ap-south-1", "ap-south-1"},
		{"default", "", "", objstore.DefaultRegion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := s3test.New(t)
			srv.CreateBucket(t, "culvert-region")
			cleanEnv(t)
			srv.Setenv(t)
			if tc.env != "" {
				t.Setenv("AWS_REGION", tc.env)
			} else {
				os.Unsetenv("AWS_REGION")
			}
			loaded, err := objstore.Load(t.Context(), objstore.Config{Region: tc.cfg})
			if err != nil {
				t.Fatal(err)
			}
			awsCfg := srv.Config()
			awsCfg.Region = tc.env
			built, err := objstore.New(awsCfg, objstore.Config{Region: tc.cfg})
			if err != nil {
				t.Fatal(err)
			}
			for name, st := range map[string]*objstore.Store{"Load": loaded, "New": built} {
				before := len(srv.Requests())
				put(t, st, "s3://culvert-region/k", "v")
				for _, r := range srv.Requests()[before:] {
					if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "/"+tc.want+"/s3/aws4_request") {
						t.Errorf("%s: request signed %q, want region %s", name, auth, tc.want)
					}
				}
			}
		})
	}
}

// TestChecksumSetting checks that the SDK configuration's
// request_checksum_calculation reaches uploads, which transfermanager
// would otherwise decide alone.
func TestChecksumSetting(t *testing.T) {
	for _, tc := range []struct {
		setting string
		want    bool
	}{
		{"", true},
		{"when_supported", true},
		{"when_required", false},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			srv := s3test.New(t)
			srv.CreateBucket(t, "culvert-sum")
			cleanEnv(t)
			srv.Setenv(t)
			if tc.setting != "" {
				t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", tc.setting)
			}
			st, err := objstore.Load(t.Context(), objstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			before := len(srv.Requests())
			put(t, st, "s3://culvert-sum/k", "v")
			reqs := srv.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			got := false
			for k := range reqs[0].Header {
				got = got || strings.HasPrefix(k, "X-Amz-Checksum-") || k == "X-Amz-Sdk-Checksum-Algorithm" || k == "X-Amz-Trailer"
			}
			if got != tc.want {
				t.Errorf("PutObject carries a checksum: %v, want %v; headers %v", got, tc.want, reqs[0].Header)
			}
		})
	}
}

func TestLoadMissingProfile(t *testing.T) {
	cleanEnv(t)
	t.Setenv("AWS_PROFILE", "nowhere")
	_, err := objstore.Load(t.Context(), objstore.Config{})
	if err == nil || !strings.HasPrefix(err.Error(), "objstore: load AWS configuration: ") || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("Load = %v, want an error naming the profile", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  objstore.Config
		want string
	}{
		{objstore.Config{Concurrency: -1}, "objstore: Config.Concurrency is -1; it must be at least 1"},
		{objstore.Config{PartSize: 1 << 20}, "objstore: Config.PartSize is 1048576; S3 needs parts of at least 5242880 bytes"},
		{objstore.Config{MultipartThreshold: -5}, "objstore: Config.MultipartThreshold is -5; it must be positive"},
	} {
		if _, err := objstore.New(aws.Config{}, tc.cfg); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
