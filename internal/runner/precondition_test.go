package runner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// TestPreconditions checks S3KeyExists, S3PrefixNotEmpty and Exists: met
// is FINISHED, not met is FALSE, and a check S3 refuses is FAILED, not
// FALSE, so that a missing permission does not look like data not there
// yet.
func TestPreconditions(t *testing.T) {
	t.Parallel()
	dbObj, db := sqliteDB(t, "Db")
	mustExec(t, db, "CREATE TABLE present (id INTEGER)")
	file := s3NodeObj("@File_1", "filePath", "s3://bucket/data/a.csv")
	dir := s3NodeObj("@Dir_1", "directoryPath", "s3://bucket/data")
	emptyDir := s3NodeObj("@Empty_1", "directoryPath", "s3://bucket/dat")
	table := sqlNode("@Table_1", "present", dbObj)
	noTable := sqlNode("@NoTable_1", "absent", dbObj)
	dynamo := &Object{ID: "@Dynamo_1", Fields: []Field{str("type", "DynamoDBDataNode"), str("tableName", "t")}}
	others := []*Object{file, dir, emptyDir, table, noTable, dynamo, dbObj}
	tests := []struct {
		name       string
		typ        string
		fields     []Field
		wantStatus Status
		wantID     string
		wantInMsg  string
	}{
		{name: "key exists", typ: "S3KeyExists", fields: []Field{str("s3Key", "s3://bucket/data/a.csv")}},
		{name: "key missing", typ: "S3KeyExists", fields: []Field{str("s3Key", "s3://bucket/data/b.csv")},
			wantStatus: StatusFalse, wantID: "PreconditionNotMet", wantInMsg: "s3Key s3://bucket/data/b.csv does not exist"},
		{name: "key in a missing bucket", typ: "S3KeyExists", fields: []Field{str("s3Key", "s3://no-bucket/k")},
			wantStatus: StatusFalse, wantID: "PreconditionNotMet"},
		{name: "key refused", typ: "S3KeyExists", fields: []Field{str("s3Key", "s3://denied/k")},
			wantStatus: StatusFailed, wantID: "PreconditionCheckFailed", wantInMsg: "Status Code: 403"},
		{name: "directory is no key", typ: "S3KeyExists", fields: []Field{str("s3Key", "s3://bucket/data/")},
			wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
		{name: "no key", typ: "S3KeyExists", wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
		{name: "prefix", typ: "S3PrefixNotEmpty", fields: []Field{str("s3Prefix", "s3://bucket/dat")}},
		{name: "prefix empty", typ: "S3PrefixNotEmpty", fields: []Field{str("s3Prefix", "s3://bucket/data/x")},
			wantStatus: StatusFalse, wantID: "PreconditionNotMet"},
		{name: "prefix refused", typ: "S3PrefixNotEmpty", fields: []Field{str("s3Prefix", "s3://denied/")},
			wantStatus: StatusFailed, wantID: "PreconditionCheckFailed", wantInMsg: "403"},
		{name: "file node", typ: "Exists", fields: []Field{ref("node", file.ID)}},
		{name: "directory node", typ: "Exists", fields: []Field{ref("node", dir.ID)}},
		{name: "directory node as a directory", typ: "Exists", fields: []Field{ref("node", emptyDir.ID)},
			wantStatus: StatusFalse, wantID: "PreconditionNotMet", wantInMsg: "s3://bucket/dat/"},
		{name: "table", typ: "Exists", fields: []Field{ref("node", table.ID)}},
		{name: "no table", typ: "Exists", fields: []Field{ref("node", noTable.ID)},
			wantStatus: StatusFalse, wantID: "PreconditionNotMet", wantInMsg: "table absent does not exist"},
		{name: "DynamoDB", typ: "Exists", fields: []Field{ref("node", dynamo.ID)}, wantStatus: StatusFailed, wantID: "UnsupportedActivity"},
		{name: "no node", typ: "Exists", wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job, srv := newS3Job(t, shellTask(tc.typ, tc.fields, others...))
			srv.CreateBucket(t, "denied")
			srv.Deny("denied")
			srv.PutObject(t, "bucket", "data/a.csv", "a\n")
			err := Precondition{}.Execute(context.Background(), job)
			te := wantTaskError(t, err, tc.wantStatus, tc.wantID)
			if te != nil && !strings.Contains(te.Message, tc.wantInMsg) {
				t.Errorf("errorMessage = %q, want it to contain %q", te.Message, tc.wantInMsg)
			}
		})
	}
}

// TestExistsAsksTheService checks an Exists precondition whose task object
// carries its node as an instance without the component's fields: the
// runner asks the service for them with EvaluateExpression, and a field
// the service cannot evaluate is absent.
func TestExistsAsksTheService(t *testing.T) {
	t.Parallel()
	node := &Object{ID: "@Dir_2026", Fields: []Field{str("type", "S3DataNode"), ref("parent", "Dir"), str("@status", "WAITING_ON_DEPENDENCIES")}}
	for _, tc := range []struct {
		name       string
		evaluate   func(ctx context.Context, id, expr string) (string, error)
		wantStatus Status
		wantID     string
	}{
		{name: "met", evaluate: func(_ context.Context, id, expr string) (string, error) {
			if id == node.ID && expr == "#{directoryPath}" {
				return "s3://bucket/data", nil
			}
			return "", &types.InvalidRequestException{Message: aws.String("no such field")}
		}},
		{name: "service unreachable", evaluate: func(context.Context, string, string) (string, error) {
			return "", errors.New("connection refused")
		}, wantStatus: StatusFailed, wantID: "PreconditionCheckFailed"},
		{name: "no evaluator", wantStatus: StatusFailed, wantID: "InvalidTaskObject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job, srv := newS3Job(t, shellTask("Exists", []Field{ref("node", node.ID)}, node))
			srv.PutObject(t, "bucket", "data/a.csv", "a\n")
			job.Evaluate = tc.evaluate
			wantTaskError(t, Precondition{}.Execute(context.Background(), job), tc.wantStatus, tc.wantID)
		})
	}
}
