package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/objstore/s3test"
)

// workTimeout bounds how long the real work of a pipeline may take once
// activated: building nothing, but starting processes, PostgreSQL
// connections and S3 transfers on a shared machine.
const workTimeout = 60 * time.Second

// startWorkRunner starts `culvert runner` as startRunnerProc does, with
// S3 reached at srv: only the S3 endpoint comes from srv's environment,
// since gofakes3 takes any credentials and the runner signs Data Pipeline
// calls with the development key.
func startWorkRunner(t *testing.T, bin, endpoint, workerGroup string, srv *s3test.Server, args ...string) *runnerProc {
	t.Helper()
	var s3env []string
	for _, kv := range srv.Env() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_S3=") {
			s3env = append(s3env, kv)
		}
	}
	logDir := filepath.Join(t.TempDir(), "logs")
	p := launchRunner(t, bin, runnerEnv(t, devSecret, s3env...), append([]string{
		"--endpoint", endpoint, "--worker-group", workerGroup,
		"--log-dir", logDir, "--work-dir", t.TempDir(),
		"--progress-interval", "200ms", "--grace", "3s", "--log-level", "debug",
	}, args...)...)
	p.LogDir = logDir
	p.Log.waitFor(t, "runner: polling", startTimeout)
	return p
}

// awaitInstance waits until pipeline id has an instance of component,
// which the scheduler creates after activation, and returns its id; it
// fails if there are several, or none within startTimeout.
func awaitInstance(t *testing.T, c *datapipeline.Client, id, component string) string {
	t.Helper()
	for deadline := time.Now().Add(startTimeout); ; {
		var found []string
		for in := range instanceStatuses(t, c, id) {
			if strings.HasPrefix(in, "@"+component+"_") {
				found = append(found, in)
			}
		}
		switch {
		case len(found) == 1:
			return found[0]
		case len(found) > 1:
			t.Fatalf("instances of %s: %v, want one", component, found)
		case time.Now().After(deadline):
			t.Fatalf("no instance of %s within %v", component, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFinished waits until every named instance is FINISHED, failing at
// once, with the instances' errors, when one fails, and after within.
func waitFinished(t *testing.T, c *datapipeline.Client, id string, within time.Duration, instances ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := instanceStatuses(t, c, id)
		done := true
		for _, in := range instances {
			switch got[in] {
			case "FINISHED":
			case "FAILED", "CASCADE_FAILED", "CANCELED":
				objs := objectFields(t, c, id, in)
				t.Fatalf("%s is %s: %s: %s", in, got[in], fieldValues(objs[in], "errorId"), fieldValues(objs[in], "errorMessage"))
			default:
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances %v not FINISHED within %v: %v", instances, within, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2ERunnerStagedShell runs AWS's getting-started ShellCommandActivity
// pipeline (spec Appendix C) through the real runner process, with
// workerGroup in place of the Ec2Resource and one occurrence: the input
// S3DataNode's directory is staged into ${INPUT1_STAGING_DIR}, the
// parameterised grep writes ${OUTPUT1_STAGING_DIR}/output.txt, and the
// runner uploads it to the output node's directoryPath, named by the
// scheduled start time. The attempt's logs are copied to the S3
// pipelineLogUri (§9.4).
func TestE2ERunnerStagedShell(t *testing.T) {
	t.Parallel()
	bin := mustBuildBinary(t)
	s := mustRunServer(t)
	c := s.devClient()
	srv := s3test.New(t)
	for _, b := range []string{"culvert-samples", "culvert-out", "culvert-logs"} {
		srv.CreateBucket(t, b)
	}
	srv.PutObject(t, "culvert-samples", "pig-apache-logs/data/access_log_1", "GET /a\nGET /b\nPOST /c\nGET /d\n")
	srv.PutObject(t, "culvert-samples", "pig-apache-logs/data/access_log_2", "POST /x\nGET /y\n")
	srv.PutObject(t, "culvert-samples", "pig-apache-logs/data-not-input/access_log_3", "GET /not-staged\n")

	const wg = "wg-e2e-staged"
	const shellCmd = `grep -rc "GET" ${INPUT1_STAGING_DIR}/* > ${OUTPUT1_STAGING_DIR}/output.txt`
	id := mustCreate(t, c, "getting-started", "getting-started")
	mustPut(t, c, id, &datapipeline.PutPipelineDefinitionInput{
		PipelineObjects: []types.PipelineObject{
			object("Default", "Default", str("failureAndRerunMode", "CASCADE"), str("resourceRole", "DataPipelineDefaultResourceRole"),
				str("role", "DataPipelineDefaultRole"), str("scheduleType", "cron"), ref("schedule", "DefaultSchedule"),
				str("pipelineLogUri", "s3://culvert-logs/pipelines/"), str("workerGroup", wg), str("maximumRetries", "0")),
			object("DefaultSchedule", "Every 15 minutes", str("type", "Schedule"), str("period", "15 minutes"),
				str("startAt", "FIRST_ACTIVATION_DATE_TIME"), str("occurrences", "1")),
			object("S3InputLocation", "S3InputLocation", str("type", "S3DataNode"), str("directoryPath", "#{myS3InputLoc}")),
			object("S3OutputLocation", "S3OutputLocation", str("type", "S3DataNode"),
				str("directoryPath", "#{myS3OutputLoc}/#{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')}")),
			object("ShellCommandActivityObj", "ShellCommandActivityObj", str("type", "ShellCommandActivity"),
				str("command", "#{myShellCmd}"), ref("input", "S3InputLocation"), ref("output", "S3OutputLocation"), str("stage", "true")),
		},
		ParameterObjects: []types.ParameterObject{
			parameter("myS3OutputLoc", "AWS::S3::ObjectKey", "S3 output folder", ""),
			parameter("myS3InputLoc", "AWS::S3::ObjectKey", "S3 input folder", "s3://us-east-1.elasticmapreduce.samples/pig-apache-logs/data"),
			parameter("myShellCmd", "String", "Shell command to run", shellCmd),
		},
		ParameterValues: []types.ParameterValue{
			{Id: aws.String("myS3OutputLoc"), StringValue: aws.String("s3://culvert-out/results")},
			{Id: aws.String("myS3InputLoc"), StringValue: aws.String("s3://culvert-samples/pig-apache-logs/data")},
			{Id: aws.String("myShellCmd"), StringValue: aws.String(shellCmd)},
		},
	})
	r := startWorkRunner(t, bin, s.URL, wg, srv)
	activate(t, c, id)
	in := awaitInstance(t, c, id, "ShellCommandActivityObj")
	waitFinished(t, c, id, workTimeout, in)

	start := field(t, objectFields(t, c, id, in)[in], "@scheduledStartTime")
	at, err := time.Parse("2006-01-02T15:04:05", start)
	if err != nil {
		t.Fatalf("@scheduledStartTime %q: %v", start, err)
	}
	key := "results/" + at.Format("2006-01-02-15-04-05") + "/output.txt"
	if keys := srv.Keys(t, "culvert-out", ""); !slices.Equal(keys, []string{key}) {
		t.Fatalf("output bucket holds %q, want %q", keys, key)
	}
	// grep -rc names each staged file by its path in the staging
	// directory, which is the runner's.
	lines := strings.Split(strings.TrimSuffix(srv.GetObject(t, "culvert-out", key), "\n"), "\n")
	want := regexp.MustCompile(`^(/.+/input1)/(access_log_\d):(\d+)$`)
	var got []string
	dirs := map[string]bool{}
	for _, l := range lines {
		m := want.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("output line %q is not <INPUT1_STAGING_DIR>/<file>:<count>", l)
		}
		dirs[m[1]] = true
		got = append(got, m[2]+":"+m[3])
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"access_log_1:3", "access_log_2:1"}) || len(dirs) != 1 {
		t.Errorf("output.txt = %q; want the GET counts of the two staged files, from one directory", lines)
	}

	attempt := in + "_Attempt=1"
	logKey := "pipelines/" + id + "/ShellCommandActivityObj/" + in + "/" + attempt + "/"
	logs := srv.Keys(t, "culvert-logs", logKey)
	for _, name := range []string{"stdout.log", "stderr.log", "runner.log"} {
		if !slices.Contains(logs, logKey+name) {
			t.Errorf("pipelineLogUri holds %q; want %s there", logs, name)
		}
	}
	objs := objectFields(t, c, id, attempt)
	wantFields(t, "the attempt", objs[attempt], map[string]string{"@logLocation": "s3://culvert-logs/" + logKey})
	if events := srv.GetObject(t, "culvert-logs", logKey+"runner.log"); !strings.Contains(events, "runner: uploaded output") {
		t.Errorf("runner.log at pipelineLogUri does not tell of the upload:\n%s", events)
	}
	if got := attemptLog(t, r.LogDir, id, "ShellCommandActivityObj", in, attempt, "stderr.log"); got != "" {
		t.Errorf("stderr.log = %q, want nothing", got)
	}
}

// parameter is a parameter object with a type, a description and, if not
// empty, a default.
func parameter(id, typ, description, def string) types.ParameterObject {
	attrs := []types.ParameterAttribute{
		{Key: aws.String("type"), StringValue: aws.String(typ)},
		{Key: aws.String("description"), StringValue: aws.String(description)},
	}
	if def != "" {
		attrs = append(attrs, types.ParameterAttribute{Key: aws.String("default"), StringValue: aws.String(def)})
	}
	return types.ParameterObject{Id: aws.String(id), Attributes: attrs}
}
