package pipeline

import (
	"slices"
	"strings"
)

// FieldType is the slot type of a field as the object reference names it.
// On the wire every value is a string or a reference; the type says how the
// string must parse.
type FieldType int

const (
	TypeString      FieldType = iota // any string
	TypeInteger                      // a base-10 integer
	TypeDouble                       // a decimal number
	TypeBoolean                      // "true" or "false", any case
	TypePeriod                       // "N unit", unit minutes|hours|days|weeks|months|years
	TypeDateTime                     // "YYYY-MM-DDTHH:MM:SS", UTC
	TypeEnumeration                  // one of FieldSpec.Enum, any case
	TypeReference                    // a reference to another object
)

var fieldTypeNames = [...]string{"String", "Integer", "Double", "Boolean", "Period", "DateTime", "Enumeration", "Reference"}

func (t FieldType) String() string {
	if t < 0 || int(t) >= len(fieldTypeNames) {
		return "FieldType(?)"
	}
	return fieldTypeNames[t]
}

// Kind is the broad category of an object type; reference fields name the
// kinds they may point at.
type Kind int

const (
	KindOther        Kind = iota // utility objects: ShellScriptConfig, EmrConfiguration, Property, HttpProxy, …
	KindDataNode                 // S3DataNode, SqlDataNode, …
	KindActivity                 // ShellCommandActivity, CopyActivity, …
	KindResource                 // Ec2Resource, EmrCluster
	KindPrecondition             // Exists, S3KeyExists, …
	KindDatabase                 // JdbcDatabase, RdsDatabase, RedshiftDatabase
	KindDataFormat               // CSV, TSV, …
	KindAction                   // SnsAlarm, Terminate
	KindSchedule                 // Schedule
	KindDefault                  // the Default object, which has no type
)

var kindNames = [...]string{"Other", "DataNode", "Activity", "Resource", "Precondition", "Database", "DataFormat", "Action", "Schedule", "Default"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(?)"
	}
	return kindNames[k]
}

// FieldSpec describes one field of an object type.
type FieldSpec struct {
	// Name is the key without any leading '*'.
	Name     string
	Type     FieldType
	Required bool
	// Repeated fields may carry several values (the key repeats on the wire).
	Repeated bool
	// Enum lists the allowed values of an Enumeration, compared without
	// regard to case. On other types it lists extra literal values that are
	// accepted as they are, such as ONDEMAND_PERIOD for Schedule.period.
	Enum []string
	// RefKinds and RefTypes restrict what a Reference may point at: the
	// target's kind must be in RefKinds or its type in RefTypes. Both nil
	// means any object.
	RefKinds []Kind
	RefTypes []string
	// Secret fields are written with a leading '*' ("*password"), which asks
	// for encryption in transit; culvert accepts the key with or without it.
	Secret bool
	// Runtime fields are set by the service or the runner, never by users.
	// Those starting with '@' are rejected by Validate; the few without '@'
	// (errorMessage, hostname, node, …) are rejected by CheckTypes.
	Runtime bool
	// Invocation marks the "object invocation" field (schedule).
	Invocation bool
	// Literal values may not be expressions (startDateTime).
	Literal bool
}

// OneOf is a required group: at least one of Fields must be set, and
// exactly one when Exclusive.
type OneOf struct {
	Fields    []string
	Exclusive bool
}

// TypeSpec describes one object type.
type TypeSpec struct {
	Name string
	Kind Kind
	// Fields is sorted by Name.
	Fields []FieldSpec
	// OneOf lists the required groups.
	OneOf []OneOf
	// Conflicts lists sets of fields of which at most one may be set, such as
	// Schedule's occurrences and endDateTime.
	Conflicts [][]string
	// NotAllowed lists fields the reference lists for the type but which
	// may not be set on it ("This field is not allowed on this object").
	// They are only rejected when the object sets them itself; values
	// inherited from Default or a parent are ignored.
	NotAllowed []string
}

// Field returns the spec of the field called name; a leading '*' is ignored.
func (t *TypeSpec) Field(name string) (*FieldSpec, bool) {
	name = strings.TrimPrefix(name, "*")
	i, ok := slices.BinarySearchFunc(t.Fields, name, func(f FieldSpec, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return nil, false
	}
	return &t.Fields[i], true
}

// LookupType returns the spec of the object type called name. Type names are
// case-sensitive, as in the AWS object reference.
func LookupType(name string) (*TypeSpec, bool) {
	t, ok := catalogIndex[name]
	return t, ok
}

var catalogIndex = func() map[string]*TypeSpec {
	m := make(map[string]*TypeSpec, len(catalog))
	for i := range catalog {
		m[catalog[i].Name] = &catalog[i]
	}
	return m
}()

// Types returns every type in the catalog, sorted by name. The caller must
// not modify the result.
func Types() []TypeSpec { return catalog }

// IsUserField reports whether key names a user-defined field: "my" followed
// by an upper-case letter or an underscore, optionally after a '*'.
func IsUserField(key string) bool {
	key = strings.TrimPrefix(key, "*")
	if len(key) < 3 || !strings.HasPrefix(key, "my") {
		return false
	}
	c := key[2]
	return c == '_' || ('A' <= c && c <= 'Z')
}

// Field constructors for the catalog table.

func fStr(name string) FieldSpec  { return FieldSpec{Name: name, Type: TypeString} }
func fStrs(name string) FieldSpec { return FieldSpec{Name: name, Type: TypeString, Repeated: true} }
func fInt(name string) FieldSpec {
	return FieldSpec{Name: name, Type: TypeInteger}
}
func fDouble(name string) FieldSpec { return FieldSpec{Name: name, Type: TypeDouble} }
func fBool(name string) FieldSpec   { return FieldSpec{Name: name, Type: TypeBoolean} }
func fPeriod(name string) FieldSpec { return FieldSpec{Name: name, Type: TypePeriod} }
func fDateTime(name string) FieldSpec {
	return FieldSpec{Name: name, Type: TypeDateTime}
}
func fEnum(name string, values ...string) FieldSpec {
	return FieldSpec{Name: name, Type: TypeEnumeration, Enum: values}
}
func fRef(name string, kinds ...Kind) FieldSpec {
	return FieldSpec{Name: name, Type: TypeReference, RefKinds: kinds}
}
func fRefs(name string, kinds ...Kind) FieldSpec {
	return FieldSpec{Name: name, Type: TypeReference, RefKinds: kinds, Repeated: true}
}
func fRefType(name string, types ...string) FieldSpec {
	return FieldSpec{Name: name, Type: TypeReference, RefTypes: types}
}
func fSecret(name string) FieldSpec { return FieldSpec{Name: name, Type: TypeString, Secret: true} }

func must(f FieldSpec) FieldSpec     { f.Required = true; return f }
func many(f FieldSpec) FieldSpec     { f.Repeated = true; return f }
func sysField(f FieldSpec) FieldSpec { f.Runtime = true; return f }

// mergeFields joins field lists and sorts them by name. A name given twice keeps
// the later spec, so a type can override a shared field.
func mergeFields(lists ...[]FieldSpec) []FieldSpec {
	var out []FieldSpec
	for _, l := range lists {
		for _, f := range l {
			if i := slices.IndexFunc(out, func(g FieldSpec) bool { return g.Name == f.Name }); i >= 0 {
				out[i] = f
				continue
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b FieldSpec) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func fieldList(f ...FieldSpec) []FieldSpec { return f }

func sysFields(fs ...FieldSpec) []FieldSpec {
	for i := range fs {
		fs[i].Runtime = true
	}
	return fs
}

// Shared enumerations (§3.2, §3.3).
var (
	scheduleTypes            = []string{"cron", "timeseries", "ondemand"}
	failureAndRerunModes     = []string{"cascade", "none"}
	actionsOnTaskFailure     = []string{"continue", "terminate"}
	actionsOnResourceFailure = []string{"retryall", "retrynone"}
)

// Shared field sets (Appendix D).
var (
	// systemFields are on every typed object.
	systemFields = sysFields(fStr("@error"), fStr("@pipelineId"), fStr("@sphere"), fStr("@version"))

	// runnableRuntime is Appendix D's [R].
	runnableRuntime = sysFields(
		fRefs("@activeInstances"), fDateTime("@actualEndTime"), fDateTime("@actualStartTime"),
		fStr("cancellationReason"), fRefs("@cascadeFailedOn"), fStr("emrStepLog"), fStr("errorId"),
		fStr("errorMessage"), fStr("errorStackTrace"), fDateTime("@finishedTime"), fStr("hadoopJobLog"),
		fStr("@healthStatus"), fStr("@healthStatusFromInstanceId"), fDateTime("@healthStatusUpdatedTime"),
		fStr("hostname"), fDateTime("@lastDeactivatedTime"), fDateTime("@latestCompletedRunTime"),
		fDateTime("@latestRunTime"), fDateTime("@nextRunTime"), fDateTime("reportProgressTime"),
		fDateTime("@scheduledEndTime"), fDateTime("@scheduledStartTime"), fStr("@status"), fRefs("@waitingOn"),
		// Observed on instances and attempts (§3.2).
		fInt("@attemptCount"), fRef("@componentParent"), fRef("@headAttempt"), fRef("@instanceParent"),
		fStr("@logLocation"), fInt("@triesLeft"),
	)

	// preconditionRuntime is the precondition pages' runtime set.
	preconditionRuntime = sysFields(
		fRefs("@activeInstances"), fDateTime("@actualEndTime"), fDateTime("@actualStartTime"),
		fStr("cancellationReason"), fRefs("@cascadeFailedOn"), fStr("currentRetryCount"), fStr("emrStepLog"),
		fStr("errorId"), fStr("errorMessage"), fStr("errorStackTrace"), fStr("hadoopJobLog"), fStr("hostname"),
		fStr("lastRetryTime"), fRef("node"), fDateTime("reportProgressTime"), fDateTime("@scheduledEndTime"),
		fDateTime("@scheduledStartTime"), fStr("@status"), fRefs("@waitingOn"),
		fInt("@attemptCount"), fRef("@componentParent"), fRef("@headAttempt"), fRef("@instanceParent"),
		fInt("@triesLeft"),
	)

	// retryFields are shared by every runnable type and every precondition.
	retryFields = fieldList(
		fStr("attemptStatus"), fPeriod("attemptTimeout"), fEnum("failureAndRerunMode", failureAndRerunModes...),
		fPeriod("lateAfterTimeout"), fInt("maximumRetries"),
		fRefs("onFail", KindAction), fRefs("onLateAction", KindAction), fRefs("onSuccess", KindAction),
		fRef("parent"), fPeriod("reportProgressTimeout"), fPeriod("retryDelay"),
	)

	// scheduledFields are shared by data nodes, activities and resources.
	scheduledFields = fieldList(
		fInt("maxActiveInstances"), fStr("pipelineLogUri"),
		FieldSpec{Name: "schedule", Type: TypeReference, RefKinds: []Kind{KindSchedule}, Invocation: true},
		fEnum("scheduleType", scheduleTypes...),
		fRef("runsOn", KindResource), fStr("workerGroup"),
	)

	// dataNodeFields are shared by every data node.
	dataNodeFields = mergeFields(retryFields, scheduledFields, runnableRuntime, systemFields, fieldList(
		fRefs("dependsOn", KindActivity, KindDataNode), fRefs("precondition", KindPrecondition),
	))

	// activityFields are shared by every activity.
	activityFields = mergeFields(dataNodeFields, fieldList(fRefs("input", KindDataNode), fRefs("output", KindDataNode)))

	// emrStepActivityFields are shared by the activities that run on EMR
	// with pre- and post-activity scripts.
	emrStepActivityFields = fieldList(
		fRefType("postActivityTaskConfig", "ShellScriptConfig"), fRefType("preActivityTaskConfig", "ShellScriptConfig"),
		fBool("resizeClusterBeforeRunning"), fInt("resizeClusterMaxInstances"),
	)

	// resourceFields are shared by Ec2Resource and EmrCluster.
	resourceFields = mergeFields(retryFields, scheduledFields, runnableRuntime, systemFields, fieldList(
		fEnum("actionOnResourceFailure", actionsOnResourceFailure...),
		fEnum("actionOnTaskFailure", actionsOnTaskFailure...),
		fStr("availabilityZone"), fRefType("httpProxy", "HttpProxy"), fPeriod("initTimeout"), fStr("keyPair"),
		fStr("region"), fStr("resourceRole"), fStr("role"), fStr("subnetId"), fPeriod("terminateAfter"),
		fBool("useOnDemandOnLastAttempt"), sysField(fStr("@failureReason")),
		sysField(fStr("@resourceId")), sysField(fStr("@resourceRegion")), sysField(fStr("@resourceStatus")),
	))

	// preconditionFields are shared by every precondition.
	preconditionFields = mergeFields(retryFields, preconditionRuntime, systemFields, fieldList(fPeriod("preconditionTimeout")))

	// plainFields are shared by databases, data formats, actions and
	// utility objects: only parent plus the system fields.
	plainFields = mergeFields(systemFields, fieldList(fRef("parent")))

	// actionFields add the runtime node link.
	actionFields = mergeFields(plainFields, fieldList(sysField(fRef("node"))))
)

// atLeastOne and exactlyOne build OneOf groups.
func atLeastOne(f ...string) OneOf { return OneOf{Fields: f} }
func exactlyOne(f ...string) OneOf { return OneOf{Fields: f, Exclusive: true} }

// runsOnOrWorkerGroup is every activity's second group. runsOn wins when
// both are set ("If you provide a runsOn value and workerGroup exists,
// workerGroup is ignored"), so both may be set: Default commonly supplies
// workerGroup.
var runsOnOrWorkerGroup = atLeastOne("runsOn", "workerGroup")
