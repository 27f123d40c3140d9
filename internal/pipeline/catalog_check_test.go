package pipeline

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gettingStarted is the AWS getting-started ShellCommandActivity pipeline
// (Default, Schedule, S3DataNode, ShellCommandActivity, Ec2Resource).
func gettingStarted() []Object {
	return []Object{
		{ID: "Default", Name: "Default", Fields: []Field{
			String("failureAndRerunMode", "CASCADE"),
			Ref("schedule", "DefaultSchedule"),
			String("resourceRole", "DataPipelineDefaultResourceRole"),
			String("role", "DataPipelineDefaultRole"),
			String("pipelineLogUri", "s3://mybucket/logs/"),
			String("scheduleType", "cron"),
		}},
		{ID: "DefaultSchedule", Name: "Every 15 minutes", Fields: []Field{
			String("type", "Schedule"),
			String("period", "15 minutes"),
			String("startAt", "FIRST_ACTIVATION_DATE_TIME"),
			String("occurrences", "4"),
		}},
		{ID: "InputData", Name: "InputData", Fields: []Field{
			String("type", "S3DataNode"),
			String("directoryPath", "s3://us-east-1.elasticmapreduce.samples/pig-apache-logs/data"),
		}},
		{ID: "OutputData", Name: "OutputData", Fields: []Field{
			String("type", "S3DataNode"),
			String("directoryPath", "s3://mybucket/output/#{@scheduledStartTime}"),
		}},
		{ID: "ShellCommandActivityObj", Name: "ShellCommandActivityObj", Fields: []Field{
			String("type", "ShellCommandActivity"),
			String("command", "grep -rc \"GET\" ${INPUT1_STAGING_DIR}/* > ${OUTPUT1_STAGING_DIR}/output.txt"),
			String("stage", "true"),
			Ref("input", "InputData"),
			Ref("output", "OutputData"),
			Ref("runsOn", "EC2ResourceObj"),
		}},
		{ID: "EC2ResourceObj", Name: "EC2ResourceObj", Fields: []Field{
			String("type", "Ec2Resource"),
			String("terminateAfter", "20 Minutes"),
			String("instanceType", "t1.micro"),
		}},
	}
}

func TestCheckTypesClean(t *testing.T) {
	t.Parallel()
	if got := CheckTypes(&Definition{Objects: gettingStarted()}); len(got) != 0 {
		t.Errorf("CheckTypes(getting started) = %v, want none", got)
	}
}

func problem(id, code, msg string) Problem {
	return Problem{ObjectID: id, Code: code, Message: code + ":  " + msg}
}

func TestCheckTypes(t *testing.T) {
	t.Parallel()
	sched := obj("S", String("type", "Schedule"), String("period", "1 day"), String("startDateTime", "2024-01-01T00:00:00"))
	act := func(id string, extra ...Field) Object {
		return obj(id, append([]Field{String("type", "ShellCommandActivity"), String("command", "true"), String("workerGroup", "wg")}, extra...)...)
	}
	tests := []struct {
		name string
		objs []Object
		want []Problem
	}{
		{
			name: "unknown type",
			objs: []Object{obj("A", String("type", "ShellCommandActivty"))},
			want: []Problem{problem("A", CodeUnknownType, "'ShellCommandActivty' is not a known object type.")},
		},
		{
			name: "unknown type inherited is reported once on the parent",
			objs: []Object{obj("P", String("type", "Nope")), obj("A", Ref("parent", "P")), obj("B", Ref("parent", "P"))},
			want: []Problem{problem("P", CodeUnknownType, "'Nope' is not a known object type.")},
		},
		{
			name: "no type: Default and pure parents are fine, others are not",
			objs: []Object{
				obj("Default", String("workerGroup", "wg")),
				obj("Template", String("stage", "true")),
				act("A", Ref("parent", "Template")),
				obj("Loose", String("command", "true")),
			},
			want: []Problem{problem("Loose", CodeMissingField,
				"The object has no 'type'; only Default and objects used as a parent may omit it.")},
		},
		{
			name: "required field",
			objs: []Object{obj("R", String("type", "Ec2Resource"), String("role", "r"))},
			want: []Problem{problem("R", CodeMissingField, "'resourceRole' is required on Ec2Resource objects.")},
		},
		{
			name: "required field inherited from Default",
			objs: []Object{obj("Default", String("role", "r"), String("resourceRole", "rr")), obj("R", String("type", "Ec2Resource"))},
		},
		{
			name: "secret required field with or without star",
			objs: []Object{
				obj("D1", String("type", "RdsDatabase"), String("rdsInstanceId", "i"), String("username", "u"), String("*password", "p")),
				obj("D2", String("type", "RdsDatabase"), String("rdsInstanceId", "i"), String("username", "u"), String("password", "p")),
				obj("D3", String("type", "RdsDatabase"), String("rdsInstanceId", "i"), String("username", "u")),
			},
			want: []Problem{problem("D3", CodeMissingField, "'password' is required on RdsDatabase objects.")},
		},
		{
			name: "one-of group missing",
			objs: []Object{obj("A", String("type", "ShellCommandActivity"), String("workerGroup", "wg"))},
			want: []Problem{problem("A", CodeMissingField, "One of 'command' or 'scriptUri' is required on ShellCommandActivity objects.")},
		},
		{
			name: "both groups missing",
			objs: []Object{obj("A", String("type", "SqlActivity"))},
			want: []Problem{
				problem("A", CodeMissingField, "'database' is required on SqlActivity objects."),
				problem("A", CodeMissingField, "One of 'script' or 'scriptUri' is required on SqlActivity objects."),
				problem("A", CodeMissingField, "One of 'runsOn' or 'workerGroup' is required on SqlActivity objects."),
			},
		},
		{
			name: "exclusive group",
			objs: []Object{obj("S", String("type", "Schedule"), String("period", "1 hour"),
				String("startAt", "FIRST_ACTIVATION_DATE_TIME"), String("startDateTime", "2024-01-01T00:00:00"))},
			want: []Problem{problem("S", CodeConflictingFields, "Only one of 'startAt' or 'startDateTime' may be set on Schedule objects.")},
		},
		{
			name: "runsOn and workerGroup together are fine",
			objs: []Object{
				obj("Default", String("workerGroup", "wg"), String("role", "r"), String("resourceRole", "rr")),
				obj("R", String("type", "Ec2Resource")),
				act("A", Ref("runsOn", "R")),
			},
		},
		{
			name: "user-managed preconditions may name where they run",
			objs: []Object{
				obj("E", String("type", "Exists"), String("workerGroup", "wg")),
				obj("C", String("type", "ShellCommandPrecondition"), String("command", "true"), String("workerGroup", "wg")),
			},
		},
		{
			name: "conflicts",
			objs: []Object{
				obj("S", String("type", "Schedule"), String("period", "1 hour"), String("startAt", "FIRST_ACTIVATION_DATE_TIME"),
					String("occurrences", "3"), String("endDateTime", "2025-01-01T00:00:00")),
				obj("A", String("type", "ShellCommandActivity"), String("scriptUri", "s3://b/x.sh"),
					String("scriptArgument", "1"), String("workerGroup", "wg")),
			},
			want: []Problem{
				problem("S", CodeConflictingFields, "'endDateTime' or 'occurrences' cannot be used together on Schedule objects."),
				problem("A", CodeConflictingFields, "'scriptArgument' or 'scriptUri' cannot be used together on ShellCommandActivity objects."),
			},
		},
		{
			name: "not allowed: own only, inherited ignored",
			objs: []Object{
				obj("Default", String("workerGroup", "wg"), String("role", "r"), String("resourceRole", "rr")),
				obj("R1", String("type", "Ec2Resource")),
				obj("R2", String("type", "EmrCluster"), String("workerGroup", "wg2")),
			},
			want: []Problem{problem("R2", CodeFieldNotAllowed, "'workerGroup' is not allowed on EmrCluster objects.")},
		},
		{
			name: "unknown field, user fields allowed",
			objs: []Object{act("A", String("comand", "x"), String("myComment", "fine"), Ref("my_ref", "A"), String("mycomment", "no"))},
			want: []Problem{
				problem("A", CodeFieldNotAllowed, "'comand' is not a field of ShellCommandActivity objects."),
				problem("A", CodeFieldNotAllowed, "'mycomment' is not a field of ShellCommandActivity objects."),
			},
		},
		{
			name: "runtime field without @",
			objs: []Object{act("A", String("errorMessage", "boom"), String("@status", "left to Validate"))},
			want: []Problem{problem("A", CodeRuntimeField, "'errorMessage' is a runtime field of ShellCommandActivity objects; it is set by the service.")},
		},
		{
			name: "not repeatable",
			objs: []Object{act("A", String("stdout", "s3://a"), String("stdout", "s3://b"), String("scriptArgument", "1"), String("scriptArgument", "2"))},
			want: []Problem{problem("A", CodeFieldNotRepeatable, "'stdout' may only have one value on ShellCommandActivity objects.")},
		},
		{
			name: "reference kinds",
			objs: []Object{
				sched,
				obj("N", String("type", "S3DataNode"), String("filePath", "s3://b/k")),
				obj("Default", String("workerGroup", "wg")),
				act("A", Ref("schedule", "N"), Ref("input", "S"), Ref("runsOn", "N"), Ref("onFail", "Default"), Ref("dependsOn", "N")),
			},
			want: []Problem{
				problem("A", CodeInvalidReferenceKind, "'schedule' refers to 'N', which is of type S3DataNode; it must refer to a Schedule."),
				problem("A", CodeInvalidReferenceKind, "'input' refers to 'S', which is of type Schedule; it must refer to a data node."),
				problem("A", CodeInvalidReferenceKind, "'runsOn' refers to 'N', which is of type S3DataNode; it must refer to a resource."),
				problem("A", CodeInvalidReferenceKind, "'onFail' refers to 'Default', which has no type; it must refer to an action."),
			},
		},
		{
			name: "reference to a type",
			objs: []Object{
				obj("J", String("type", "JdbcDatabase"), String("connectionString", "c"), String("jdbcDriverClass", "d"),
					String("username", "u"), String("*password", "p")),
				obj("N", String("type", "RedshiftDataNode"), Ref("database", "J"), String("tableName", "t")),
				obj("Q", String("type", "SqlDataNode"), Ref("database", "J"), String("table", "t")),
			},
			want: []Problem{problem("N", CodeInvalidReferenceKind,
				"'database' refers to 'J', which is of type JdbcDatabase; it must refer to RedshiftDatabase.")},
		},
		{
			name: "reference kind through the target's parent",
			objs: []Object{
				obj("Tmpl", String("type", "Schedule")),
				obj("S", Ref("parent", "Tmpl"), String("period", "1 hour"), String("startAt", "FIRST_ACTIVATION_DATE_TIME")),
				act("A", Ref("schedule", "S")),
			},
			want: []Problem{
				problem("Tmpl", CodeMissingField, "'period' is required on Schedule objects."),
				problem("Tmpl", CodeMissingField, "One of 'startAt' or 'startDateTime' is required on Schedule objects."),
			},
		},
		{
			name: "ref versus string",
			objs: []Object{sched, act("A", String("schedule", "S"), Ref("stdout", "S"), String("runsOn", "#{myResource}"))},
			want: []Problem{
				problem("A", CodeInvalidFieldValue, "'schedule' must be a reference to another object."),
				problem("A", CodeInvalidFieldValue, "'stdout' must be a string value, not a reference."),
			},
		},
		{
			name: "enumerations are case-insensitive",
			objs: []Object{
				obj("Default", String("scheduleType", "ONDEMAND"), String("failureAndRerunMode", "Cascade")),
				act("A", String("scheduleType", "Cron")),
				act("B", String("failureAndRerunMode", "sometimes")),
				obj("N", String("type", "S3DataNode"), String("filePath", "s3://b/k"), String("compression", "zip"),
					String("s3EncryptionType", "server_side_encryption")),
			},
			want: []Problem{
				problem("B", CodeInvalidEnumValue, "'failureAndRerunMode' value 'sometimes' is not one of: cascade, none."),
				problem("N", CodeInvalidEnumValue, "'compression' value 'zip' is not one of: none, gzip."),
			},
		},
		{
			name: "bad value on Default is reported once on Default",
			objs: []Object{
				obj("Default", String("scheduleType", "hourly"), String("maximumRetries", "lots")),
				act("A"), act("B"), act("C"),
			},
			want: []Problem{
				problem("Default", CodeInvalidEnumValue, "'scheduleType' value 'hourly' is not one of: cron, timeseries, ondemand."),
				problem("Default", CodeInvalidFieldValue, "'maximumRetries' value 'lots' must be an integer."),
			},
		},
		{
			name: "syntax of values",
			objs: []Object{
				act("A", String("maximumRetries", "2.5"), String("stage", "yes"), String("retryDelay", "10 mins"),
					String("attemptTimeout", "1 Hour"), String("lateAfterTimeout", "#{myLate}")),
				obj("N", String("type", "DynamoDBDataNode"), String("tableName", "t"),
					String("readThroughputPercent", "0.5"), String("writeThroughputPercent", "half")),
				obj("S", String("type", "Schedule"), String("period", "15 minutes"), String("startAt", "FIRST_ACTIVATION_DATE_TIME"),
					String("endDateTime", "2024-01-01 00:00:00")),
			},
			want: []Problem{
				problem("A", CodeInvalidFieldValue, "'maximumRetries' value '2.5' must be an integer."),
				problem("A", CodeInvalidFieldValue, "'stage' value 'yes' must be 'true' or 'false'."),
				problem("A", CodeInvalidFieldValue, "'retryDelay' value '10 mins' must be a period such as '15 minutes' (N minutes, hours, days, weeks, months or years)."),
				problem("N", CodeInvalidFieldValue, "'writeThroughputPercent' value 'half' must be a number."),
				problem("S", CodeInvalidFieldValue, "'endDateTime' value '2024-01-01 00:00:00' must be a datetime in the form YYYY-MM-DDTHH:MM:SS."),
			},
		},
		{
			name: "startDateTime must be a literal datetime",
			objs: []Object{
				obj("S1", String("type", "Schedule"), String("period", "1 hour"), String("startDateTime", "#{myStart}")),
				obj("S2", String("type", "Schedule"), String("period", "1 hour"), String("startDateTime", "makeDate(2011,5,24)")),
				obj("S3", String("type", "Schedule"), String("period", "ONDEMAND_PERIOD"), String("startAt", "ONDEMAND_ACTIVATION_TIME")),
			},
			want: []Problem{
				problem("S1", CodeInvalidFieldValue, "'startDateTime' value must be a literal datetime value."),
				problem("S2", CodeInvalidFieldValue, "'startDateTime' value must be a literal datetime value."),
			},
		},
		{
			name: "HiveActivity needs input and output",
			objs: []Object{obj("H", String("type", "HiveActivity"), String("hiveScript", "x"), String("workerGroup", "wg"))},
			want: []Problem{
				problem("H", CodeMissingField, "'input' is required on HiveActivity objects."),
				problem("H", CodeMissingField, "'output' is required on HiveActivity objects."),
			},
		},
		{
			name: "cycles, duplicates, empty ids and dangling refs are left to Validate",
			objs: []Object{
				obj("A", String("type", "Nope"), Ref("parent", "B")),
				obj("B", Ref("parent", "A")),
				act("C", Ref("input", "Missing"), String("stdout", "")),
				obj("C", String("type", "AlsoNope")),
				{Name: "no id", Fields: []Field{String("type", "Nope")}},
			},
		},
		{
			name: "problems come out in definition order",
			objs: []Object{
				act("A"),
				obj("B", String("type", "ShellCommandActivity"), Ref("parent", "P")),
				obj("P", String("scheduleType", "bad"), String("command", "true"), String("workerGroup", "wg")),
			},
			want: []Problem{
				problem("P", CodeInvalidEnumValue, "'scheduleType' value 'bad' is not one of: cron, timeseries, ondemand."),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := CheckTypes(&Definition{Objects: tt.objs})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckTypes (-want +got):\n%s", diff)
			}
		})
	}
}
