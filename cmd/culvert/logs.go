package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/culvert/culvert/internal/datapipeline"
)

// logsCommand is `culvert logs`: an attempt's stdout, stderr, any other
// file of its logs, or their list, read through culvert serve's logs
// endpoint (logsPattern) with a request signed as the client verbs sign
// theirs (docs/assumptions/0022-attempt-logs.md).
type logsCommand struct {
	main *Main
}

// signingName is the SigV4 service name culvert verifies.
const signingName = "datapipeline"

// emptyPayloadHash is the SHA-256 of an empty body, what a GET signs.
var emptyPayloadHash = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

func (c *logsCommand) Run(ctx context.Context, args []string) error {
	cc := &clientCommand{main: c.main, verb: "logs"}
	fs := cc.flagSet("PIPELINE_ID ATTEMPT_ID [--stderr | --file NAME | --list]",
		"Prints an attempt's stdout, as its task runner wrote it at the attempt's @logLocation and culvert serve\n"+
			"reads it there; --stderr, --file and --list print its stderr, another file, or the list of its files.\n"+
			"ATTEMPT_ID is an attempt's id, such as @MyActivity_2026-01-01T00:00:00_Attempt=1, or an instance's\n"+
			"(as culvert runs lists them) for its latest attempt.")
	stderr := fs.Bool("stderr", false, "print the attempt's stderr instead of its stdout")
	file := fs.String("file", "", "print the file `NAME` of the attempt's logs (as --list shows it) instead of its stdout")
	list := fs.Bool("list", false, "list the files of the attempt's logs, with their sizes and times")
	pos, err := cc.parse(fs, args, 2)
	if err != nil {
		return err
	}
	name := "stdout"
	chosen := 0
	for _, set := range []bool{*stderr, *file != "", *list} {
		if set {
			chosen++
		}
	}
	switch {
	case chosen > 1:
		return errors.New("logs: give at most one of --stderr, --file and --list")
	case cc.json && !*list:
		return errors.New("logs: --json goes with --list; a log file is printed as it is")
	case *stderr:
		name = "stderr"
	case *file != "":
		name = *file
		if err := checkLogFileName(name); err != nil {
			return err
		}
	case *list:
		name = ""
	}
	body, err := c.get(ctx, cc, pos[0], pos[1], name)
	if err != nil {
		return err
	}
	defer body.Close()
	if name != "" {
		_, err := io.Copy(c.main.Stdout, body)
		return err
	}
	var out datapipeline.ListAttemptLogsOutput
	if err := json.NewDecoder(body).Decode(&out); err != nil {
		return fmt.Errorf("logs: the server's list: %w", err)
	}
	if cc.json {
		return writeJSON(c.main.Stdout, out)
	}
	fmt.Fprintf(c.main.Stdout, "%s\n", cell(out.LogLocation))
	if len(out.Files) == 0 {
		fmt.Fprintln(c.main.Stderr, "no log files yet")
		return nil
	}
	tw := tabwriter.NewWriter(c.main.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tMODIFIED")
	for _, f := range out.Files {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", cell(f.Name), f.Size, f.LastModified.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// checkLogFileName refuses names the server would refuse, before the
// request: a "." or ".." element would not even reach it, as HTTP
// servers clean paths.
func checkLogFileName(name string) error {
	for elem := range strings.SplitSeq(name, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return fmt.Errorf("logs: --file %q: name a file inside the attempt's log location, as --list shows it, without a leading /, . or .. elements", name)
		}
	}
	return nil
}

// get signs and sends GET /logs/PIPELINE/ATTEMPT/NAME and returns the
// body of a successful answer; an error answer becomes the one-line error
// the client verbs print.
func (c *logsCommand) get(ctx context.Context, cc *clientCommand, pipelineID, attemptID, name string) (io.ReadCloser, error) {
	u, err := resolveEndpoint(cc.endpoint, c.main.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := loadAWSConfig(ctx, u, cc.region, cc.profile)
	if err != nil {
		return nil, err
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	target, err := logsURL(u, pipelineID, attemptID, name)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, err
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptyPayloadHash, signingName, cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	client := http.DefaultClient
	if hc, ok := cfg.HTTPClient.(*http.Client); ok {
		client = hc
	}
	// A redirect could only be to another path, which the signature does
	// not cover: show it instead of following it.
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, apiError(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	return nil, logsError(resp)
}

// logsURL is the endpoint's URL of an attempt's log file, or of their
// list when name is empty. Each id and each element of name is escaped
// on its own, so that an id holding "/" stays one element.
func logsURL(endpoint *url.URL, pipelineID, attemptID, name string) (*url.URL, error) {
	var p strings.Builder
	p.WriteString(strings.TrimSuffix(endpoint.EscapedPath(), "/"))
	p.WriteString("/logs/" + url.PathEscape(pipelineID) + "/" + url.PathEscape(attemptID) + "/")
	for i, elem := range strings.Split(name, "/") {
		if i > 0 {
			p.WriteByte('/')
		}
		p.WriteString(url.PathEscape(elem))
	}
	return url.Parse(endpoint.Scheme + "://" + endpoint.Host + p.String())
}

// logsError reads an error answer: the API's {"__type","message"}
// envelope, shown as the client verbs show API errors, or whatever else
// came back.
func logsError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var env struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &env) == nil && env.Type != "" {
		code := env.Type[strings.LastIndexByte(env.Type, '#')+1:]
		return &clientError{msg: code + ": " + env.Message}
	}
	msg := fmt.Sprintf("the server answered %s", resp.Status)
	if loc := resp.Header.Get("Location"); loc != "" {
		msg += ", redirecting to " + loc
	}
	if b := bytes.TrimSpace(body); len(b) > 0 {
		msg += ": " + cell(string(b[:min(len(b), 200)]))
	}
	return &clientError{msg: msg}
}
