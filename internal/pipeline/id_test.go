package pipeline

import (
	"regexp"
	"testing"
)

func TestNewPipelineID(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^df-[0-9A-Z]{19}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewPipelineID()
		if !shape.MatchString(id) || !IsPipelineID(id) {
			t.Fatalf("NewPipelineID() = %q, want df- and 19 upper-case alphanumerics", id)
		}
		if seen[id] {
			t.Fatalf("NewPipelineID() repeated %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "df-", "df-abc", "DF-ABC", "df-AB_C", "xx-ABC"} {
		if IsPipelineID(bad) {
			t.Errorf("IsPipelineID(%q) = true", bad)
		}
	}
}
