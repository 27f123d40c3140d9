package runner

import "context"

// need says what a type needs that culvert's task runner cannot provide,
// and what a user can do instead.
type need struct {
	What    string // what running it takes
	Instead string // how to do the work without it
}

// unsupportedTypes are the types no runner on an ordinary machine can run.
var unsupportedTypes = map[string]need{
	"DynamoDBDataExists": {"Amazon DynamoDB to read the table from",
		"check the data with a ShellCommandPrecondition that calls aws dynamodb scan"},
	"DynamoDBTableExists": {"Amazon DynamoDB to look the table up in",
		"check the table with a ShellCommandPrecondition that calls aws dynamodb describe-table"},
	"EmrActivity": {"an Amazon EMR cluster (EmrCluster) to run its steps on",
		"run the step's program with a ShellCommandActivity (for example spark-submit against your own cluster)"},
	"HadoopActivity": {"a Hadoop cluster (EmrCluster) to submit its jar to",
		"submit the jar with a ShellCommandActivity running hadoop jar against your own cluster"},
	"HiveActivity": {"Apache Hive on an Amazon EMR cluster (EmrCluster)",
		"run the query with a SqlActivity, or with a ShellCommandActivity calling beeline or hive"},
	"HiveCopyActivity": {"Apache Hive on an Amazon EMR cluster (EmrCluster), with DynamoDB or S3 access from it",
		"copy S3 and SQL data with a CopyActivity"},
	"PigActivity": {"Apache Pig on an Amazon EMR cluster (EmrCluster)",
		"run the script with a ShellCommandActivity calling pig"},
	"RedshiftCopyActivity": {"an Amazon Redshift cluster, which loads the data from S3 with its COPY command",
		"run COPY yourself with a SqlActivity on a RedshiftDatabase, or load a PostgreSQL table with a CopyActivity"},
}

// unsupportedNodes are the data-node types whose data no runner here can
// read or write, with the service each needs.
var unsupportedNodes = map[string]string{
	"DynamoDBDataNode": "Amazon DynamoDB",
	"RedshiftDataNode": "an Amazon Redshift cluster (a SqlDataNode with a RedshiftDatabase reaches one through SQL)",
}

// Unsupported fails every task with errorId UnsupportedActivity and a
// message saying what running it would need.
type Unsupported struct {
	Needs need
}

// Execute implements [Executor]; it always returns a [*TaskError].
func (u Unsupported) Execute(_ context.Context, job *Job) error {
	return failf("UnsupportedActivity",
		"culvert's task runner cannot run a %s: it needs %s, which this machine does not provide. "+
			"Run it on AWS Data Pipeline, or %s.",
		job.Task.Type(), u.Needs.What, u.Needs.Instead)
}

// CheckDataNodes returns an UnsupportedActivity [*TaskError] if the
// attempt's input or output is a DynamoDBDataNode or RedshiftDataNode, whose
// data no runner here can read or write, and nil otherwise. Executors that
// move data (CopyActivity, staged shell commands) call it first.
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
