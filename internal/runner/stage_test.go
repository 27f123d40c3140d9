package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// s3Node returns an S3DataNode object with the given string fields.
func s3NodeObj(id string, kv ...string) *Object {
	o := &Object{ID: id, Fields: []Field{str("type", "S3DataNode")}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Fields = append(o.Fields, str(kv[i], kv[i+1]))
	}
	return o
}

// TestShellStaging runs staged commands (spec §9.4): inputs are
// downloaded into INPUTn_STAGING_DIR in input order, whatever the command
// writes to OUTPUTn_STAGING_DIR is uploaded to the output node when it
// succeeds, and the shell expands ${INPUT1_STAGING_DIR} as the service
// leaves it.
func TestShellStaging(t *testing.T) {
	t.Parallel()
	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "local.txt"), []byte("GET local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inDir := s3NodeObj("@InDir_1", "directoryPath", "s3://bucket/in")
	inFile := s3NodeObj("@InFile_1", "filePath", "s3://bucket/single/one.log")
	inManifest := s3NodeObj("@InManifest_1", "manifestFilePath", "s3://bucket/m.json")
	inLocal := s3NodeObj("@InLocal_1", "directoryPath", local)
	outDir := s3NodeObj("@OutDir_1", "directoryPath", "s3://bucket/out/2026-03-01", "manifestFilePath", "s3://bucket/out.manifest")
	outFile := s3NodeObj("@OutFile_1", "filePath", "s3://bucket/counts.txt")
	outLocal := s3NodeObj("@OutLocal_1", "directoryPath", "file://"+filepath.Join(local, "out"))
	command := `set -e
cat ${INPUT1_STAGING_DIR}/a.log ${INPUT1_STAGING_DIR}/sub/b.log > ${OUTPUT1_STAGING_DIR}/all.txt
mkdir ${OUTPUT1_STAGING_DIR}/deep && cp ${INPUT2_STAGING_DIR}/one.log ${OUTPUT1_STAGING_DIR}/deep/
ls ${INPUT3_STAGING_DIR} > ${OUTPUT2_STAGING_DIR}/manifest-files.txt
grep -rc GET ${INPUT4_STAGING_DIR}/* > ${OUTPUT3_STAGING_DIR}/local-count.txt
echo "$1"`
	task := shellTask("ShellCommandActivity", []Field{str("command", command), str("scriptArgument", "arg"), str("stage", "true"),
		ref("input", inDir.ID), ref("input", inFile.ID), ref("input", inManifest.ID), ref("input", inLocal.ID),
		ref("output", outDir.ID), ref("output", outFile.ID), ref("output", outLocal.ID)},
		inDir, inFile, inManifest, inLocal, outDir, outFile, outLocal)
	job, srv := newS3Job(t, task)
	srv.PutObject(t, "bucket", "in/a.log", "GET a\n")
	srv.PutObject(t, "bucket", "in/sub/b.log", "GET b\n")
	srv.PutObject(t, "bucket", "input.csv", "not under in/\n")
	srv.PutObject(t, "bucket", "single/one.log", "one\n")
	srv.PutObject(t, "bucket", "m/x.csv", "x\n")
	srv.PutObject(t, "bucket", "m.json", `{"entries": [{"url": "s3://bucket/m/x.csv", "mandatory": true}, {"url": "s3://bucket/m/gone.csv"}]}`)

	if err := (&Shell{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	for key, want := range map[string]string{
		"out/2026-03-01/all.txt":      "GET a\nGET b\n",
		"out/2026-03-01/deep/one.log": "one\n",
		"counts.txt":                  "x.csv\n",
	} {
		if got := srv.GetObject(t, "bucket", key); got != want {
			t.Errorf("s3://bucket/%s = %q, want %q", key, got, want)
		}
	}
	if got := readFile(t, filepath.Join(local, "out", "local-count.txt")); got != "1\n" {
		t.Errorf("local output = %q, want the count of GETs in the local input", got)
	}
	wantManifest := `{
  "entries": [
    {
      "url": "s3://bucket/out/2026-03-01/all.txt",
      "mandatory": true
    },
    {
      "url": "s3://bucket/out/2026-03-01/deep/one.log",
      "mandatory": true
    }
  ]
}
`
	if got := srv.GetObject(t, "bucket", "out.manifest"); got != wantManifest {
		t.Errorf("output manifest = %s, want %s", got, wantManifest)
	}
	if got := readFile(t, filepath.Join(job.LogDir, StdoutLog)); got != "arg\n" {
		t.Errorf("stdout = %q", got)
	}
}

// TestShellStagingFailures checks that staging problems fail the task
// before the command runs, or, after it, without leaving partial output.
func TestShellStagingFailures(t *testing.T) {
	t.Parallel()
	in := s3NodeObj("@In_1", "directoryPath", "s3://bucket/in")
	out := s3NodeObj("@Out_1", "directoryPath", "s3://bucket/out")
	outFile := s3NodeObj("@OutFile_1", "filePath", "s3://bucket/out.txt")
	denied := s3NodeObj("@Denied_1", "directoryPath", "s3://denied/in")
	both := s3NodeObj("@Both_1", "filePath", "s3://bucket/a", "directoryPath", "s3://bucket/b")
	neither := s3NodeObj("@Neither_1")
	relative := s3NodeObj("@Relative_1", "directoryPath", "data/in")
	tests := []struct {
		name      string
		command   string
		nodes     []Field
		wantID    string
		wantInMsg string
		wantNoKey string // an object that must not exist afterwards
	}{
		{name: "command fails", command: "echo partial > $OUTPUT1_STAGING_DIR/x; exit 1",
			nodes: []Field{ref("input", in.ID), ref("output", out.ID)}, wantID: "ShellCommandFailed", wantNoKey: "out/x"},
		{name: "403 on input", command: "touch ran", nodes: []Field{ref("input", denied.ID)},
			wantID: "StagingFailed", wantInMsg: "Status Code: 403"},
		{name: "filePath output gets two files", command: "touch $OUTPUT1_STAGING_DIR/a $OUTPUT1_STAGING_DIR/b",
			nodes: []Field{ref("output", outFile.ID)}, wantID: "StagingFailed", wantInMsg: "exactly one file", wantNoKey: "out.txt"},
		{name: "both paths", command: "touch ran", nodes: []Field{ref("input", both.ID)}, wantID: "InvalidTaskObject", wantInMsg: "both filePath and directoryPath"},
		{name: "neither path", command: "touch ran", nodes: []Field{ref("output", neither.ID)}, wantID: "InvalidTaskObject", wantInMsg: "neither"},
		{name: "relative path", command: "touch ran", nodes: []Field{ref("input", relative.ID)}, wantID: "InvalidTaskObject", wantInMsg: "relative path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := shellTask("ShellCommandActivity", append([]Field{str("command", tc.command), str("stage", "true")}, tc.nodes...),
				in, out, outFile, denied, both, neither, relative)
			job, srv := newS3Job(t, task)
			srv.CreateBucket(t, "denied")
			srv.Deny("denied")
			srv.PutObject(t, "bucket", "in/a", "a")
			te := wantTaskError(t, (&Shell{}).Execute(context.Background(), job), StatusFailed, tc.wantID)
			if !strings.Contains(te.Message, tc.wantInMsg) {
				t.Errorf("errorMessage = %q, want it to contain %q", te.Message, tc.wantInMsg)
			}
			if _, err := os.Stat(filepath.Join(job.WorkDir, "ran")); err == nil {
				t.Errorf("the command ran, though staging failed before it")
			}
			if tc.wantNoKey != "" && slices.Contains(srv.Keys(t, "bucket", ""), tc.wantNoKey) {
				t.Errorf("s3://bucket/%s was uploaded by a task that failed", tc.wantNoKey)
			}
		})
	}
}

// TestShellS3ScriptAndOutput runs a script from S3 and copies its stdout
// and stderr to S3.
func TestShellS3ScriptAndOutput(t *testing.T) {
	t.Parallel()
	job, srv := newS3Job(t, shellTask("ShellCommandActivity", []Field{
		str("scriptUri", "s3://bucket/scripts/run.sh"), str("stdout", "s3://bucket/logs/out.txt"), str("stderr", "s3://bucket/logs/err.txt")}))
	srv.PutObject(t, "bucket", "scripts/run.sh", "#!/bin/sh\necho from S3\necho oops >&2\n")
	if err := (&Shell{}).Execute(context.Background(), job); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	if got := srv.GetObject(t, "bucket", "logs/out.txt"); got != "from S3\n" {
		t.Errorf("stdout on S3 = %q", got)
	}
	if got := srv.GetObject(t, "bucket", "logs/err.txt"); got != "oops\n" {
		t.Errorf("stderr on S3 = %q", got)
	}
}
