package pipeline

import (
	"testing"
	"time"

	"github.com/culvert/culvert/internal/expr"
	"github.com/google/go-cmp/cmp"
)

func TestSchedulePeriodBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		period string
		ok     bool
	}{
		{"14 minutes", false}, {"15 minutes", true}, {"1 hour", true},
		{"26280 hours", true}, {"26281 hours", false},
		{"1095 days", true}, {"1096 days", false},
		{"156 weeks", true}, {"157 weeks", false},
		{"36 months", true}, {"37 months", false},
		{"3 years", true}, {"4 years", false},
		{"1576800 minutes", true}, {"1576801 minutes", false},
	}
	for _, tc := range tests {
		p, err := expr.ParsePeriod(tc.period)
		if err != nil {
			t.Fatalf("ParsePeriod(%q): %v", tc.period, err)
		}
		if got := atLeast(p, 15*time.Minute) && atMostYears(p, 3); got != tc.ok {
			t.Errorf("period %q within 15 minutes..3 years = %v, want %v", tc.period, got, tc.ok)
		}
	}
}

func TestNumberRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, val string
		ok       bool
	}{
		{"maximumRetries", "0", true}, {"maximumRetries", "5", true}, {"maximumRetries", "6", false},
		{"maximumRetries", "-1", false}, {"maximumRetries", "x", true}, // syntax is the catalog's
		{"retryDelay", "2 minutes", true}, {"retryDelay", "1 minute", false}, {"retryDelay", "1 hour", true},
		{"readThroughputPercent", "0.1", true}, {"readThroughputPercent", "1", true},
		{"readThroughputPercent", "0.09", false}, {"readThroughputPercent", "1.01", false},
		{"readThroughputPercent", "NaN", true}, // not a number: the catalog's
		{"spotBidPrice", "0.01", true}, {"spotBidPrice", "19.99", true},
		{"spotBidPrice", "0", false}, {"spotBidPrice", "20.00", false},
		{"occurrences", "1", true}, {"occurrences", "0", false},
		{"coreInstanceCount", "0", true}, {"coreInstanceCount", "-1", false},
	}
	for _, tc := range tests {
		r := lookupNumberRule(tc.key)
		if r == nil {
			t.Fatalf("no rule for %q", tc.key)
		}
		if got := r.within(tc.val); got != tc.ok {
			t.Errorf("%s = %q within bounds = %v, want %v", tc.key, tc.val, got, tc.ok)
		}
	}
}

func TestNumberRulesSorted(t *testing.T) {
	t.Parallel()
	for i := 1; i < len(numberRules); i++ {
		if numberRules[i-1].key >= numberRules[i].key {
			t.Errorf("numberRules not sorted: %q before %q", numberRules[i-1].key, numberRules[i].key)
		}
	}
}

func TestStronglyConnected(t *testing.T) {
	t.Parallel()
	// 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3, 4 alone.
	adj := [][]int32{{1}, {2}, {0, 3}, {3}, nil}
	comp := stronglyConnected(adj)
	if comp[0] != comp[1] || comp[1] != comp[2] {
		t.Errorf("0, 1, 2 in components %v, want one", comp[:3])
	}
	if comp[3] == comp[0] || comp[4] == comp[0] || comp[3] == comp[4] {
		t.Errorf("components %v: 3 and 4 must each be alone", comp)
	}
	if diff := cmp.Diff([]int{2, 0, 1, 2}, shortestLoop(adj, comp, 2)); diff != "" {
		t.Errorf("shortestLoop from 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{3, 3}, shortestLoop(adj, comp, 3)); diff != "" {
		t.Errorf("shortestLoop from 3 (-want +got):\n%s", diff)
	}
}

// TestStronglyConnectedLongChain checks that a long chain closing on
// itself, as a large pipeline may hold, needs no deep recursion.
func TestStronglyConnectedLongChain(t *testing.T) {
	t.Parallel()
	const n = 100000
	adj := make([][]int32, n)
	for i := range adj {
		adj[i] = []int32{int32((i + 1) % n)}
	}
	comp := stronglyConnected(adj)
	for i := range comp {
		if comp[i] != comp[0] {
			t.Fatalf("node %d in component %d, want %d", i, comp[i], comp[0])
		}
	}
}

func TestParamValueProblem(t *testing.T) {
	t.Parallel()
	tests := []struct{ typ, val, want string }{
		{ParamTypeString, "anything", ""},
		{ParamTypeInteger, "42", ""}, {ParamTypeInteger, "-3", ""}, {ParamTypeInteger, "4.2", "an integer"},
		{ParamTypeDouble, "0.25", ""}, {ParamTypeDouble, "1e3", ""}, {ParamTypeDouble, "Inf", "a number"},
		{ParamTypeDouble, "0x10", "a number"},
		{ParamTypeS3ObjectKey, "s3://bucket/key", ""},
		{ParamTypeS3ObjectKey, "bucket/key", "an Amazon S3 location starting with 's3://'"},
		{ParamTypeInteger, "#{myOther}", ""},
	}
	for _, tc := range tests {
		if got := paramValueProblem(tc.typ, tc.val); got != tc.want {
			t.Errorf("paramValueProblem(%s, %q) = %q, want %q", tc.typ, tc.val, got, tc.want)
		}
	}
}

// TestValidateServiceLimits checks that the bounds AWS calls service limits follow
// the server's Limits: what the defaults refuse, raised limits accept.
func TestValidateServiceLimits(t *testing.T) {
	t.Parallel()
	def := &Definition{Objects: []Object{
		obj("Default", String("scheduleType", "cron"), String("pipelineLogUri", "s3://logs/"), Ref("schedule", "Often")),
		obj("Often", String("type", "Schedule"), String("period", "1 minute"), String("startAt", "FIRST_ACTIVATION_DATE_TIME")),
		obj("A", String("type", "ShellCommandActivity"), String("command", "true"), String("workerGroup", "wg"),
			String("maximumRetries", "8"), String("retryDelay", "1 minute")),
	}}
	var msgs []string
	for _, e := range Validate(def, Options{}).Errors {
		msgs = append(msgs, e.Errors...)
	}
	want := []string{
		"VALUE_OUT_OF_RANGE:  'period' value '1 minute' is out of range: a Schedule's period is at least 15 minutes and at most 3 years.",
		"VALUE_OUT_OF_RANGE:  'maximumRetries' value '8' must be between 0 and 5 (AWS allows at most 5 retries per task).",
		"VALUE_OUT_OF_RANGE:  'retryDelay' value '1 minute' must be at least 2 minutes (the minimum delay between retries).",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("default limits (-want +got):\n%s", diff)
	}
	raised := Limits{MaxRetries: 10, MinRetryDelay: time.Second, MinSchedulePeriod: time.Minute}
	if res := Validate(def, Options{Limits: raised}); res.Errored() {
		t.Errorf("raised limits: %v", res.Errors)
	}
	lowered := Limits{MaxRetries: 3, MinRetryDelay: 90 * time.Second, MinSchedulePeriod: time.Minute}
	msgs = nil
	for _, e := range Validate(def, Options{Limits: lowered}).Errors {
		msgs = append(msgs, e.Errors...)
	}
	want = []string{
		"VALUE_OUT_OF_RANGE:  'maximumRetries' value '8' must be between 0 and 3 (this server's limit maxRetries).",
		"VALUE_OUT_OF_RANGE:  'retryDelay' value '1 minute' must be at least 90 seconds (this server's limit minRetryDelay).",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("lowered limits (-want +got):\n%s", diff)
	}
}
