package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/smithy-go"

	"github.com/culvert/culvert/internal/sdkhttp"
	"github.com/culvert/culvert/internal/sigv4"
)

// The client verbs (create, put-definition, activate, deactivate, list,
// runs) are clients of the public API through aws-sdk-go-v2, the same path
// as the aws CLI, boto3 and culvert's runner: what they can do, any script
// can. Their choices are in docs/assumptions/0020-cli.md.

// devRegion is the region requests are signed for when none is configured
// and the endpoint is on loopback; culvert accepts any.
const devRegion = "us-east-1"

// clientCommand runs one client verb.
type clientCommand struct {
	main *Main
	verb string

	// The flags every verb takes.
	endpoint string
	region   string
	profile  string
	json     bool
}

// Run runs the verb with its arguments.
func (c *clientCommand) Run(ctx context.Context, args []string) error {
	switch c.verb {
	case "create":
		return c.create(ctx, args)
	case "put-definition":
		return c.putDefinition(ctx, args)
	case "activate":
		return c.activate(ctx, args)
	case "deactivate":
		return c.deactivate(ctx, args)
	case "list":
		return c.list(ctx, args)
	case "runs":
		return c.runs(ctx, args)
	}
	return fmt.Errorf("unknown client verb %q", c.verb)
}

// flagSet returns the verb's flag set with the common flags defined;
// synopsis follows "culvert VERB" in the usage line and about explains
// the verb.
func (c *clientCommand) flagSet(synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("culvert "+c.verb, flag.ContinueOnError)
	fs.SetOutput(c.main.Stderr)
	fs.StringVar(&c.endpoint, "endpoint", "", "the Data Pipeline endpoint `URL`; default $CULVERT_ENDPOINT, $AWS_ENDPOINT_URL_DATA_PIPELINE,\n"+
		"$AWS_ENDPOINT_URL, then "+serveDefaultEndpoint()+" (culvert serve's default)")
	fs.StringVar(&c.region, "region", "", "the `REGION` requests are signed for; default the AWS SDK's ($AWS_REGION, the profile),\n"+
		"then "+devRegion+" on a loopback endpoint")
	fs.StringVar(&c.profile, "profile", "", "the shared-config `PROFILE` to take credentials and region from; default $AWS_PROFILE")
	fs.BoolVar(&c.json, "json", false, "print the API's output as JSON, for scripts")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: culvert %s %s\n\n%s\n\nCredentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and\n"+
			"AWS_SECRET_ACCESS_KEY, the shared files, --profile); with none configured and a loopback\n"+
			"endpoint, culvert serve's development key is used.\n\nFlags:\n", c.verb, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs, flags and positional arguments in any order
// (as users of the aws CLI expect: "culvert activate df-… --start-time …"),
// applies CULVERT_ environment variables, and returns the positional
// arguments, which must number exactly n. After "--" everything is
// positional, so a name may start with a dash.
func (c *clientCommand) parse(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if err := applyEnv(fs, c.main.Getenv); err != nil {
		return nil, err
	}
	if len(pos) != n {
		fs.Usage()
		if len(pos) > n {
			return nil, fmt.Errorf("%s: unexpected argument %q", c.verb, pos[n])
		}
		return nil, fmt.Errorf("%s: missing arguments", c.verb)
	}
	return pos, nil
}

// serveDefaultEndpoint is the URL `culvert serve` answers on when started
// with no --listen, read from serve's own flag so the two cannot drift.
func serveDefaultEndpoint() string {
	var cfg serveConfig
	fs := (&serveCommand{main: &Main{Stderr: io.Discard}}).flags(&cfg)
	return "http://" + fs.Lookup("listen").DefValue + "/"
}

// resolveEndpoint returns the endpoint URL to use: the flag, then the
// AWS SDK's environment variables for Data Pipeline and for every service,
// then serve's default. An address without a scheme is taken as http, as
// culvert serves plain HTTP.
func resolveEndpoint(flagValue string, getenv func(string) string) (*url.URL, error) {
	ep := flagValue
	for _, name := range []string{"AWS_ENDPOINT_URL_DATA_PIPELINE", "AWS_ENDPOINT_URL"} {
		if ep == "" {
			ep = getenv(name)
		}
	}
	if ep == "" {
		ep = serveDefaultEndpoint()
	}
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL with a host", ep)
	}
	return u, nil
}

// isLoopback reports whether host (from a URL, without port) names this
// machine without leaving it.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connect returns a Data Pipeline client for the resolved endpoint, with
// credentials and region from the AWS SDK's default chain. Only when the
// chain found nothing to use but instance metadata (its last resort) and
// the endpoint is on loopback does it sign with the development key: that
// is the key a local culvert serve accepts, and instance-role credentials
// could never be accepted by a culvert anyway.
func (c *clientCommand) connect(ctx context.Context) (*datapipeline.Client, error) {
	u, err := resolveEndpoint(c.endpoint, c.main.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := loadAWSConfig(ctx, u, c.region, c.profile)
	if err != nil {
		return nil, err
	}
	return datapipeline.NewFromConfig(cfg, func(o *datapipeline.Options) {
		o.BaseEndpoint = aws.String(u.String())
	}), nil
}

// loadAWSConfig loads the SDK configuration for endpoint u; region and
// profile, when set, override the chain's.
func loadAWSConfig(ctx context.Context, u *url.URL, region, profile string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	// sdkhttp works around the SDK closing request bodies early on
	// loopback. It wraps the transport the SDK built rather than its own
	// (sdkhttp.NewClient), because the SDK can only apply AWS_CA_BUNDLE to
	// a client it builds.
	base := http.DefaultTransport
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		base = b.GetTransport()
	}
	cfg.HTTPClient = &http.Client{Transport: &sdkhttp.Transport{Base: base}}
	loopback := isLoopback(u.Hostname())
	if loopback && aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)) {
		dev := sigv4.DevCredential
		cfg.Credentials = credentials.NewStaticCredentialsProvider(dev.AccessKeyID, dev.SecretAccessKey, "")
	}
	if cfg.Region == "" {
		if !loopback {
			return aws.Config{}, errors.New("no region: pass --region or set AWS_REGION (or region in the profile)")
		}
		cfg.Region = devRegion
	}
	return cfg, nil
}

// clientError is an error shown to the user as its message alone, keeping
// the SDK's error underneath for errors.As.
type clientError struct {
	msg string
	err error
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.err }

// apiError turns an error from the SDK into one line a user can act on:
// "PipelineNotFoundException: <message>" for an error the service
// returned, as the aws CLI names them, and the network's own words for an
// endpoint that cannot be reached. The SDK's wrapping (operation, attempt
// count, request id) says nothing the user needs.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		// Ctrl-C: the request did not fail, the user stopped it.
		return &clientError{msg: "interrupted", err: err}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &clientError{msg: ae.ErrorCode() + ": " + ae.ErrorMessage(), err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := fmt.Sprintf("cannot reach %s: %v", ue.URL, ue.Err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			msg += " (is culvert serve running there? see --endpoint)"
		}
		return &clientError{msg: msg, err: err}
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return &clientError{msg: oe.OperationName + ": " + oe.Err.Error(), err: err}
	}
	return err
}

// writeJSON writes v indented, without escaping <, > and & (as the API
// does not), for scripts.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cell returns s fit for a table cell: "-" when empty, and control
// characters, which would break the table's lines or drive the terminal
// (a name is any text its creator chose), shown as "?".
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
