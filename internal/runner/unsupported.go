package runner

import "context"

// unsupportedTypes are the types no runner on an ordinary machine can run,
// with what each needs.
var unsupportedTypes = map[string]string{
	"DynamoDBDataExists":   "Amazon DynamoDB to read the table from",
	"DynamoDBTableExists":  "Amazon DynamoDB to look the table up in",
	"EmrActivity":          "an Amazon EMR cluster (EmrCluster) to run its steps on",
	"HadoopActivity":       "a Hadoop cluster (EmrCluster) to submit its jar to",
	"HiveActivity":         "Apache Hive on an Amazon EMR cluster (EmrCluster)",
	"HiveCopyActivity":     "Apache Hive on an Amazon EMR cluster (EmrCluster), with DynamoDB or S3 access from it",
	"PigActivity":          "Apache Pig on an Amazon EMR cluster (EmrCluster)",
	"RedshiftCopyActivity": "an Amazon Redshift cluster, which loads the data from S3 with its COPY command",
}

// notYetSupportedTypes are the types this runner will run once their
// executors are added.
var notYetSupportedTypes = []string{"CopyActivity", "Exists", "S3KeyExists", "S3PrefixNotEmpty", "SqlActivity"}

// unsupportedNodes are the data-node types whose data no runner here can
// read or write, with the service each needs.
var unsupportedNodes = map[string]string{
	"DynamoDBDataNode": "Amazon DynamoDB",
	"RedshiftDataNode": "an Amazon Redshift cluster",
}

// Unsupported fails every task with errorId UnsupportedActivity and a
// message saying what running it would need.
type Unsupported struct {
	// Needs says what the type needs, such as "Apache Hive on an Amazon
	// EMR cluster".
	Needs string
}

// Execute implements [Executor]; it always returns a [*TaskError].
func (u Unsupported) Execute(_ context.Context, job *Job) error {
	return failf("UnsupportedActivity",
		"culvert's task runner cannot run a %s: it needs %s, which this machine does not provide. "+
			"Run it on AWS Data Pipeline, or replace it with a ShellCommandActivity that does the work here.",
		job.Task.Type(), u.Needs)
}

// NotYetSupported fails every task with errorId NotYetSupported, unless it
// reads or writes a data node no runner here can reach, which is
// UnsupportedActivity ([CheckDataNodes]).
type NotYetSupported struct{}

// Execute implements [Executor]; it always returns a [*TaskError].
func (NotYetSupported) Execute(_ context.Context, job *Job) error {
	if err := CheckDataNodes(job.Task); err != nil {
		return err
	}
	return failf("NotYetSupported", "this version of culvert's task runner does not run %s tasks yet", job.Task.Type())
}

// CheckDataNodes returns an UnsupportedActivity [*TaskError] if the
// attempt's input or output is a DynamoDBDataNode or RedshiftDataNode, whose
// data no runner here can read or write, and nil otherwise. Executors that
// move data (CopyActivity, SqlActivity, staged shell commands) call it
// first.
func CheckDataNodes(t *Task) *TaskError {
	a := t.Attempt()
	for _, key := range []string{"input", "output"} {
		nodes, err := t.FollowAll(a, key)
		if err != nil {
			return failf("InvalidTaskObject", "%v", err)
		}
		for _, n := range nodes {
			if need, ok := unsupportedNodes[n.Type()]; ok {
				verb := "reads"
				if key == "output" {
					verb = "writes"
				}
				return failf("UnsupportedActivity", "%s %s %s %s, which needs %s; culvert's task runner cannot reach it",
					t.Type(), verb, n.Type(), n.ID, need)
			}
		}
	}
	return nil
}
