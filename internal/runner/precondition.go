package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// Precondition checks the S3KeyExists, S3PrefixNotEmpty and Exists
// preconditions (spec §3.3 "Preconditions"):
//
//   - S3KeyExists: an object is at s3Key;
//   - S3PrefixNotEmpty: some object's key begins with s3Prefix (a string
//     prefix, as S3 reads it);
//   - Exists: the data node the precondition checks (its node) exists: an
//     S3DataNode's filePath object, an object under its directoryPath, or
//     its manifest; a SqlDataNode's or MySqlDataNode's table.
//
// Local paths work as well as S3 URIs. A condition that holds is FINISHED;
// one that does not is FALSE with errorId PreconditionNotMet, which the
// service checks again after retryDelay. A check that cannot be answered
// (S3 refuses with 403, the database is down) is FAILED with errorId
// PreconditionCheckFailed (ConnectionFailed, InvalidDatabase for a
// database), so that a permission problem is not mistaken for data not
// there yet.
type Precondition struct{}

// Execute implements [Executor].
func (Precondition) Execute(ctx context.Context, job *Job) error {
	t := job.Task
	a := t.Attempt()
	switch typ := t.Type(); typ {
	case "S3KeyExists":
		key, _ := a.String("s3Key")
		if key == "" {
			return failf("InvalidTaskObject", "%s has no s3Key", t.ComponentID())
		}
		return checkObject(ctx, job, "s3Key", key)
	case "S3PrefixNotEmpty":
		prefix, _ := a.String("s3Prefix")
		if prefix == "" {
			return failf("InvalidTaskObject", "%s has no s3Prefix", t.ComponentID())
		}
		return checkPrefix(ctx, job, "s3Prefix", prefix)
	case "Exists":
		return checkNode(ctx, job)
	default:
		return failf("UnknownTaskType", "the precondition executor does not check %s", typ)
	}
}

// checkObject is FINISHED if an object is at uri, else FALSE.
func checkObject(ctx context.Context, job *Job, what, uri string) error {
	ok, err := job.Files.Exists(ctx, uri)
	switch {
	case err != nil:
		return checkFailed(ctx, job, what, uri, err)
	case !ok:
		return &TaskError{Status: StatusFalse, ID: "PreconditionNotMet", Message: fmt.Sprintf("%s %s does not exist", what, uri)}
	}
	job.Logger.Info("runner: precondition met", what, uri)
	return nil
}

// checkPrefix is FINISHED if an object's URI begins with prefix, else
// FALSE.
func checkPrefix(ctx context.Context, job *Job, what, prefix string) error {
	ok, err := job.Files.PrefixNotEmpty(ctx, prefix)
	switch {
	case err != nil:
		return checkFailed(ctx, job, what, prefix, err)
	case !ok:
		return &TaskError{Status: StatusFalse, ID: "PreconditionNotMet", Message: fmt.Sprintf("no object under %s %s", what, prefix)}
	}
	job.Logger.Info("runner: precondition met", what, prefix)
	return nil
}

func checkFailed(ctx context.Context, job *Job, what, uri string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return failf(s3ErrorID(err, "PreconditionCheckFailed"), "%s checked %s %s and got no answer: %v", job.Task.Type(), what, uri, err)
}

// nodeKeys are the fields of a data node that say where its data is.
var nodeKeys = []string{"filePath", "directoryPath", "manifestFilePath", "table", "schemaName"}

// checkNode checks an Exists precondition's node.
func checkNode(ctx context.Context, job *Job) error {
	t := job.Task
	node, err := t.Follow(t.Attempt(), "node")
	if err != nil {
		return failf("InvalidTaskObject", "%s does not say which data node it checks: %v", t.ComponentID(), err)
	}
	switch typ := node.Type(); {
	case typ == "DynamoDBDataNode":
		return failf("UnsupportedActivity", "Exists does not check a DynamoDBDataNode (AWS does not support it either); use DynamoDBTableExists or DynamoDBDataExists on AWS")
	case typ == "RedshiftDataNode":
		return failf("UnsupportedActivity", "Exists cannot check RedshiftDataNode %s: culvert's task runner does not reach Amazon Redshift data nodes; check the table with a ShellCommandPrecondition", node.ID)
	case !isS3Node(node) && !isSQLNode(node):
		return failf("InvalidTaskObject", "Exists checks a data node; %s is a %q", node.ID, typ)
	}
	node, err = locate(ctx, job, node)
	if err != nil {
		return err
	}
	if isS3Node(node) {
		n, te := readS3Node(node, true)
		if te != nil {
			return te
		}
		switch {
		case n.manifestFilePath != "":
			return checkObject(ctx, job, "manifestFilePath", n.manifestFilePath)
		case n.filePath != "":
			return checkObject(ctx, job, "filePath", n.filePath)
		}
		return checkPrefix(ctx, job, "directoryPath", dirURI(n.directoryPath))
	}

	table, te := sqlTable(node)
	if te != nil {
		return te
	}
	d, te := nodeDatabase(t, job.Databases, node)
	if te != nil {
		return te
	}
	db, err := connect(ctx, job, d)
	if err != nil {
		return err
	}
	defer db.Close()
	ok, err := tableExists(ctx, db.DB, d.Dialect(), table)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return failf("PreconditionCheckFailed", "Exists could not look table %s up in %s: %v", table, d, err)
	case !ok:
		return &TaskError{Status: StatusFalse, ID: "PreconditionNotMet", Message: fmt.Sprintf("table %s does not exist in %s", table, d)}
	}
	job.Logger.Info("runner: precondition met", "table", table)
	return nil
}

// locate returns node with the fields that say where its data is. A task
// object may carry the node as DescribeObjects shows an instance, without
// the fields it inherits from its component; then they are asked of the
// service with EvaluateExpression (spec §9.3 step 3), where the runner's
// API has it. A field the service cannot evaluate is absent.
func locate(ctx context.Context, job *Job, node *Object) (*Object, error) {
	for _, k := range nodeKeys {
		if _, ok := node.String(k); ok {
			return node, nil
		}
	}
	if job.Evaluate == nil {
		return nil, failf("InvalidTaskObject", "the task object holds %s without its location (filePath, directoryPath or table)", node.ID)
	}
	found := &Object{ID: node.ID, Name: node.Name, Fields: append([]Field(nil), node.Fields...)}
	for _, k := range nodeKeys {
		v, err := job.Evaluate(ctx, node.ID, "#{"+k+"}")
		var invalid *types.InvalidRequestException
		switch {
		case errors.As(err, &invalid):
			continue // no such field
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, failf("PreconditionCheckFailed", "asking the service for %s of %s: %v", k, node.ID, err)
		}
		found.Fields = append(found.Fields, Field{Key: k, Value: v})
	}
	job.Logger.Info("runner: located the node through EvaluateExpression", "node", node.ID)
	return found, nil
}
