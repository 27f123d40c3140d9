package main

import (
	"slices"
	"strings"
	"testing"
)

// cliValidation is validate-pipeline-definition's and
// put-pipeline-definition's output.
type cliValidation struct {
	Errored          bool `json:"errored"`
	ValidationErrors []struct {
		ID     string   `json:"id"`
		Errors []string `json:"errors"`
	} `json:"validationErrors"`
	ValidationWarnings []struct {
		ID       string   `json:"id"`
		Warnings []string `json:"warnings"`
	} `json:"validationWarnings"`
}

// has reports whether object id has an error (or, with warning set, a
// warning) containing every fragment.
func (v cliValidation) has(id string, warning bool, fragments ...string) bool {
	var msgs []string
	if warning {
		for _, w := range v.ValidationWarnings {
			if w.ID == id {
				msgs = append(msgs, w.Warnings...)
			}
		}
	} else {
		for _, e := range v.ValidationErrors {
			if e.ID == id {
				msgs = append(msgs, e.Errors...)
			}
		}
	}
	return slices.ContainsFunc(msgs, func(m string) bool {
		for _, f := range fragments {
			if !strings.Contains(m, f) {
				return false
			}
		}
		return true
	})
}

// TestAWSCLIValidation checks what a user sees from the aws CLI when a
// definition file is wrong: errors and warnings per object, a stored but
// unactivatable definition, and a required parameter supplied only at
// activation.
func TestAWSCLIValidation(t *testing.T) {
	t.Parallel()
	s := mustRunServer(t)
	cli := newAWSCLI(t, s)
	var created struct {
		PipelineID string `json:"pipelineId"`
	}
	cli.mustJSON(t, &created, "create-pipeline", "--name", "cli-validation", "--unique-id", "cli-validation")
	id := created.PipelineID

	bad := writeFile(t, "bad.json", `{
  "objects": [
    {"id": "Default", "name": "Default", "scheduleType": "cron", "failureAndRerunMode": "none",
     "role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole",
     "schedule": {"ref": "Often"}},
    {"id": "Often", "type": "Schedule", "period": "5 minutes", "startAt": "FIRST_ACTIVATION_DATE_TIME"},
    {"id": "Box", "type": "Ec2Resource", "instanceType": "t1.micro"},
    {"id": "Say", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"}, "maximumRetries": "seven"},
    {"id": "Greet", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"}, "command": "echo #{myGreeting}"}
  ],
  "parameters": [{"id": "myGreeting", "type": "String"}]
}`)
	// validate-pipeline-definition takes API objects, not a definition
	// file; culvert's converter makes its input.
	api, _, err := runMain(t, "definition", "to-api", bad)
	if err != nil {
		t.Fatalf("definition to-api: %v", err)
	}
	input := writeFile(t, "input.json", `{"pipelineId":"`+id+`",`+strings.TrimPrefix(strings.TrimSpace(api), "{"))
	var v cliValidation
	cli.mustJSON(t, &v, "validate-pipeline-definition", "--cli-input-json", "file://"+input)
	checks := []struct {
		id        string
		warning   bool
		fragments []string
	}{
		{"Say", false, []string{"MISSING_FIELD:  ", "'command'"}},
		{"Say", false, []string{"'maximumRetries'", "seven"}},
		{"Often", false, []string{"'period'"}},
		{"myGreeting", false, []string{"MISSING_PARAMETER_VALUE:  "}},
		{"Box", true, []string{"terminateAfter"}},
	}
	check := func(what string, v cliValidation) {
		t.Helper()
		if !v.Errored {
			t.Errorf("%s: errored = false, want true", what)
		}
		for _, c := range checks {
			if !v.has(c.id, c.warning, c.fragments...) {
				kind := "error"
				if c.warning {
					kind = "warning"
				}
				t.Errorf("%s: no %s on %s containing %q; got %+v", what, kind, c.id, c.fragments, v)
			}
		}
		if slices.ContainsFunc(v.ValidationErrors, func(e struct {
			ID     string   `json:"id"`
			Errors []string `json:"errors"`
		}) bool {
			return e.ID == "Greet"
		}) {
			t.Errorf("%s: the complete activity Greet has errors: %+v", what, v.ValidationErrors)
		}
	}
	check("validate-pipeline-definition", v)
	cli.mustJSON(t, &v, "put-pipeline-definition", "--pipeline-id", id, "--pipeline-definition", "file://"+bad)
	check("put-pipeline-definition", v)

	_, stderr, err := cli.run(t, "activate-pipeline", "--pipeline-id", id)
	if err == nil || !strings.Contains(string(stderr), "InvalidRequestException") {
		t.Errorf("activate-pipeline of an errored definition: err %v, stderr %s; want InvalidRequestException", err, stderr)
	}

	// The same pipeline made right, but for the required parameter's value,
	// which comes only with activate-pipeline --parameter-values.
	good := writeFile(t, "good.json", `{
  "objects": [
    {"id": "Default", "name": "Default", "scheduleType": "cron", "failureAndRerunMode": "none",
     "role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole",
     "pipelineLogUri": "s3://logs/", "schedule": {"ref": "Hourly"}},
    {"id": "Hourly", "type": "Schedule", "period": "1 hour", "startAt": "FIRST_ACTIVATION_DATE_TIME"},
    {"id": "Box", "type": "Ec2Resource", "instanceType": "t1.micro", "terminateAfter": "1 hour"},
    {"id": "Greet", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"}, "command": "echo #{myGreeting}"}
  ],
  "parameters": [{"id": "myGreeting", "type": "String"}]
}`)
	cli.mustJSON(t, &v, "put-pipeline-definition", "--pipeline-id", id, "--pipeline-definition", "file://"+good)
	if !v.Errored || !v.has("myGreeting", false, "MISSING_PARAMETER_VALUE:  ") || len(v.ValidationErrors) != 1 {
		t.Errorf("put-pipeline-definition without the required value: %+v, want only an error on myGreeting", v)
	}
	if _, stderr, err := cli.run(t, "activate-pipeline", "--pipeline-id", id); err == nil || !strings.Contains(string(stderr), "myGreeting") {
		t.Errorf("activate-pipeline without the value: err %v, stderr %s; want an error naming myGreeting", err, stderr)
	}
	cli.mustRun(t, "activate-pipeline", "--pipeline-id", id, "--parameter-values", "myGreeting=hello")
	got := readDefinitionFile(t, cli.mustRun(t, "get-pipeline-definition", "--pipeline-id", id, "--pipeline-version", "active"))
	if got.Values["myGreeting"] != "hello" {
		t.Errorf("active definition's values = %v, want myGreeting=hello", got.Values)
	}
	// The value given at activation is what expressions now see.
	var ev struct {
		EvaluatedExpression string `json:"evaluatedExpression"`
	}
	cli.mustJSON(t, &ev, "evaluate-expression", "--pipeline-id", id, "--object-id", "Greet",
		"--expression", "#{command} on #{format(makeDate(2026,1,31),'EEE d MMM')}")
	if want := "echo hello on Sat 31 Jan"; ev.EvaluatedExpression != want {
		t.Errorf("evaluate-expression = %q, want %q", ev.EvaluatedExpression, want)
	}
}
