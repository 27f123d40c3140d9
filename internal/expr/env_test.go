package expr

import (
	"fmt"
	"time"
)

// fakeEnv is a map-backed Env. Objects are looked up in the shared objs.
type fakeEnv struct {
	vals map[string][]Value
	objs map[string]*fakeEnv
}

func (e *fakeEnv) Lookup(name string) ([]Value, error) {
	v, ok := e.vals[name]
	if !ok {
		return nil, fmt.Errorf("field %s: %w", name, ErrUndefined)
	}
	return v, nil
}

func (e *fakeEnv) Object(id string) (Env, error) {
	o, ok := e.objs[id]
	if !ok {
		return nil, fmt.Errorf("object %s: %w", id, ErrUndefined)
	}
	return o, nil
}

func one(v Value) []Value { return []Value{v} }

// May 24, 2011 17:10 GMT, the example input of the function table (§6.2).
var testTime = time.Date(2011, 5, 24, 17, 10, 0, 0, time.UTC)

// newTestEnv returns the context of an activity instance "Act" with an
// input data node "In", an output "Out", and an alarm context "Alarm" whose
// node is Act.
func newTestEnv() *fakeEnv {
	objs := map[string]*fakeEnv{}
	act := &fakeEnv{objs: objs, vals: map[string][]Value{
		"myDateTime":          one(DateTime(testTime)),
		"myDateTime2":         one(DateTime(time.Date(2011, 5, 25, 17, 10, 0, 0, time.UTC))),
		"@scheduledStartTime": one(DateTime(testTime)),
		"@scheduledEndTime":   one(DateTime(testTime.Add(time.Hour))),
		"@id":                 one(String("@Act_2011-05-24T17:10:00")),
		"name":                one(String("Act")),
		"myA":                 one(String("a")),
		"myInt":               one(Integer(7)),
		"myStart":             one(String("2012-01-15T23:59:00")),
		"myPeriod":            one(String("1 Day")),
		"*myPassword":         one(String("secret")),
		"myList":              {String("one"), String("two")},
		"myList1":             {Integer(1), Integer(2)},
		"myList2":             {Integer(3), Integer(4)},
		"myEmpty":             {},
		"input":               one(Ref("In")),
		"output":              one(Ref("Out")),
		"inputs":              {Ref("In"), Ref("Out")},
		"parent":              one(Ref("Act")),
	}}
	objs["Act"] = act
	objs["In"] = &fakeEnv{objs: objs, vals: map[string][]Value{
		"@id":           one(String("In")),
		"directoryPath": one(String("s3://bucket/in")),
		"@runtimeOnly":  one(String("rt")),
	}}
	objs["Out"] = &fakeEnv{objs: objs, vals: map[string][]Value{
		"@id":           one(String("Out")),
		"directoryPath": one(String("s3://bucket/out")),
		"tableName":     one(String("t")),
		"input":         one(Ref("In")),
	}}
	objs["Alarm"] = &fakeEnv{objs: objs, vals: map[string][]Value{
		"node": one(Ref("Act")),
	}}
	return act
}
