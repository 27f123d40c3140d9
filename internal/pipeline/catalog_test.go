package pipeline

import (
	"slices"
	"strings"
	"testing"
)

// issueTypes is every type the catalog issue lists.
var issueTypes = []string{
	"S3DataNode", "SqlDataNode", "DynamoDBDataNode", "MySqlDataNode", "RedshiftDataNode",
	"ShellCommandActivity", "CopyActivity", "SqlActivity", "EmrActivity", "HiveActivity", "HiveCopyActivity",
	"PigActivity", "RedshiftCopyActivity", "HadoopActivity",
	"Ec2Resource", "EmrCluster",
	"ShellCommandPrecondition", "Exists", "S3KeyExists", "S3PrefixNotEmpty", "DynamoDBTableExists", "DynamoDBDataExists",
	"JdbcDatabase", "RdsDatabase", "RedshiftDatabase",
	"CSV", "TSV", "Custom", "RegEx", "DynamoDBDataFormat", "DynamoDBExportDataFormat",
	"SnsAlarm", "Terminate",
	"Schedule",
	"ShellScriptConfig", "EmrConfiguration", "Property", "HttpProxy",
}

func TestCatalogCoversIssueTypes(t *testing.T) {
	t.Parallel()
	for _, name := range issueTypes {
		if _, ok := LookupType(name); !ok {
			t.Errorf("LookupType(%q) not found", name)
		}
	}
	if _, ok := LookupType("Default"); ok {
		t.Error("Default must not be a type: it has no type and accepts any field")
	}
	if _, ok := LookupType("shellcommandactivity"); ok {
		t.Error("type names are case-sensitive")
	}
}

func TestCatalogSorted(t *testing.T) {
	t.Parallel()
	for i := 1; i < len(catalog); i++ {
		if catalog[i-1].Name >= catalog[i].Name {
			t.Errorf("catalog not alphabetised: %q before %q", catalog[i-1].Name, catalog[i].Name)
		}
	}
	for _, ts := range catalog {
		for i := 1; i < len(ts.Fields); i++ {
			if ts.Fields[i-1].Name >= ts.Fields[i].Name {
				t.Errorf("%s fields not sorted or repeated: %q before %q", ts.Name, ts.Fields[i-1].Name, ts.Fields[i].Name)
			}
		}
	}
}

// TestCatalogConsistent checks that every rule names a field the type has
// and that each spec is well-formed.
func TestCatalogConsistent(t *testing.T) {
	t.Parallel()
	for _, ts := range catalog {
		has := func(what, name string) {
			t.Helper()
			if _, ok := ts.Field(name); !ok {
				t.Errorf("%s: %s names %q, which is not a field", ts.Name, what, name)
			}
		}
		for _, n := range ts.NotAllowed {
			has("NotAllowed", n)
		}
		for _, g := range ts.OneOf {
			if len(g.Fields) < 2 {
				t.Errorf("%s: OneOf group %v has fewer than two fields", ts.Name, g.Fields)
			}
			for _, n := range g.Fields {
				has("OneOf", n)
			}
		}
		for _, set := range ts.Conflicts {
			for _, n := range set {
				has("Conflicts", n)
			}
		}
		for _, f := range ts.Fields {
			if strings.HasPrefix(f.Name, "*") {
				t.Errorf("%s.%s: names are stored without '*'; set Secret", ts.Name, f.Name)
			}
			if strings.HasPrefix(f.Name, "@") && !f.Runtime {
				t.Errorf("%s.%s: '@' fields must be Runtime", ts.Name, f.Name)
			}
			if (f.RefKinds != nil || f.RefTypes != nil) && f.Type != TypeReference {
				t.Errorf("%s.%s: ref targets on a %v field", ts.Name, f.Name, f.Type)
			}
			for _, rt := range f.RefTypes {
				if _, ok := LookupType(rt); !ok {
					t.Errorf("%s.%s: RefTypes names unknown type %q", ts.Name, f.Name, rt)
				}
			}
			if f.Type == TypeEnumeration && len(f.Enum) == 0 {
				t.Errorf("%s.%s: enumeration without values", ts.Name, f.Name)
			}
			if f.Required && (f.Runtime || slices.Contains(ts.NotAllowed, f.Name)) {
				t.Errorf("%s.%s: required but not settable", ts.Name, f.Name)
			}
		}
		if ts.Kind == KindDefault {
			t.Errorf("%s: KindDefault is for the Default object only", ts.Name)
		}
	}
}

func TestCatalogSpotChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, field string
		check      func(*FieldSpec) bool
	}{
		{"Schedule", "period", func(f *FieldSpec) bool { return f.Required && f.Type == TypePeriod }},
		{"Schedule", "startDateTime", func(f *FieldSpec) bool { return f.Literal && f.Type == TypeDateTime }},
		{"ShellCommandActivity", "schedule", func(f *FieldSpec) bool {
			return f.Invocation && slices.Equal(f.RefKinds, []Kind{KindSchedule})
		}},
		{"ShellCommandActivity", "scriptArgument", func(f *FieldSpec) bool { return f.Repeated }},
		{"ShellCommandActivity", "errorMessage", func(f *FieldSpec) bool { return f.Runtime }},
		{"CopyActivity", "input", func(f *FieldSpec) bool { return slices.Equal(f.RefKinds, []Kind{KindDataNode}) }},
		{"JdbcDatabase", "*password", func(f *FieldSpec) bool { return f.Secret && f.Required }},
		{"Ec2Resource", "role", func(f *FieldSpec) bool { return f.Required }},
		{"Ec2Resource", "actionOnTaskFailure", func(f *FieldSpec) bool { return f.Type == TypeEnumeration }},
		{"RedshiftDataNode", "database", func(f *FieldSpec) bool {
			return f.Required && slices.Equal(f.RefTypes, []string{"RedshiftDatabase"})
		}},
		{"HiveActivity", "preActivityTaskConfig", func(f *FieldSpec) bool {
			return slices.Equal(f.RefTypes, []string{"ShellScriptConfig"})
		}},
		{"RedshiftCopyActivity", "insertMode", func(f *FieldSpec) bool { return f.Required && len(f.Enum) == 4 }},
	}
	for _, tt := range tests {
		ts, ok := LookupType(tt.typ)
		if !ok {
			t.Fatalf("LookupType(%q) not found", tt.typ)
		}
		f, ok := ts.Field(tt.field)
		if !ok {
			t.Errorf("%s.Field(%q) not found", tt.typ, tt.field)
			continue
		}
		if !tt.check(f) {
			t.Errorf("%s.%s = %+v, fails its check", tt.typ, tt.field, *f)
		}
	}
}

func TestIsUserField(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"myComment": true, "my_field": true, "*myPassword": true,
		"my": false, "mycomment": false, "myc": false, "MyComment": false, "comment": false,
	} {
		if got := IsUserField(key); got != want {
			t.Errorf("IsUserField(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestIsPeriod(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"1 hours": true, "1 Hour": true, "15 Minutes": true, "1 Day": true, "2 weeks": true,
		"3 months": true, "1 year": true, "10 YEARS": true,
		"": false, "hour": false, "1": false, "0 hours": false, "-1 hours": false, "1.5 hours": false,
		"1 fortnight": false, "1hours": false, "1 hoursss": false, "one hour": false, "1 hours extra": false,
	} {
		if got := IsPeriod(v); got != want {
			t.Errorf("IsPeriod(%q) = %v, want %v", v, got, want)
		}
	}
}
