package pipeline

import (
	"strings"

	"github.com/culvert/culvert/internal/expr"
)

// checkEdits reports the changes AWS does not allow once a pipeline has been
// activated (§7.4), comparing the new definition with the active one:
//
//   - an object of the active definition is missing;
//   - an existing object's reference fields differ (added, removed or
//     changed), judged on the fields the object sets itself, so a change
//     on Default is reported once, on Default;
//   - an existing Schedule's period or start changed, judged on effective
//     views, since a Schedule may inherit them;
//   - a new object outputs to an existing object.
//
// AWS's texts are not documented; each message says what to do instead.
func (v *ruleChecker) checkEdits(active *Definition) {
	ar := NewResolver(active)
	for i := range active.Objects {
		id := active.Objects[i].ID
		if id == "" || ar.index[id] != i {
			continue
		}
		if _, ok := v.r.index[id]; !ok {
			v.c.err(id, false, message(CodeEditRemovesObject, "'%s' is part of the activated pipeline and cannot be removed from it; "+
				"keep it, or delete the pipeline and create it again without it.", id))
		}
	}
	for i := range v.def.Objects {
		if !v.live[i] {
			continue
		}
		o := &v.def.Objects[i]
		j, existed := ar.index[o.ID]
		if !existed {
			for _, f := range o.Fields {
				if f.Key == "output" && f.RefValue != nil {
					if _, ok := ar.index[*f.RefValue]; ok {
						v.err(i, CodeEditOutputToExisting, "'output' refers to '%s', an object of the activated pipeline; "+
							"a new object cannot output to an existing one. Output to a new data node instead.", *f.RefValue)
					}
				}
			}
			continue
		}
		v.compareRefs(i, &active.Objects[j])
		ae := ar.resolve(j)
		if ae.err != nil || v.types[i] == nil || v.types[i].Kind != KindSchedule {
			continue
		}
		oldPeriod, _ := ownString(&ae.obj, "period")
		newPeriod, _ := v.str(i, "period")
		if !samePeriod(oldPeriod, newPeriod) {
			v.err(i, CodeEditChangesPeriod, "'period' changed from %s to %s; the period of a Schedule cannot change once the "+
				"pipeline has been activated. Keep it, or delete the pipeline and create it again.", quoteOrNone(oldPeriod), quoteOrNone(newPeriod))
		}
		if was, cur := scheduleStart(&ae.obj), scheduleStart(v.effective(i)); was != cur {
			v.err(i, CodeEditChangesStart, "The start changed from %s to %s; the start of a Schedule cannot change once the pipeline "+
				"has been activated. Keep it, and activate the pipeline with a start date and time instead (ActivatePipeline's startTimestamp).",
				was, cur)
		}
	}
}

// scheduleStart describes a Schedule's start for comparison and messages:
// "startDateTime '…'", "startAt '…'" (upper-cased, as startAt is an
// enumeration), both, or "none".
func scheduleStart(o *Object) string {
	var parts []string
	if s, ok := ownString(o, "startDateTime"); ok {
		parts = append(parts, "startDateTime '"+s+"'")
	}
	if s, ok := ownString(o, "startAt"); ok {
		parts = append(parts, "startAt '"+strings.ToUpper(s)+"'")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " and ")
}

// compareRefs reports each reference key whose values differ between the
// new object i and its active version old, in the order the keys appear.
func (v *ruleChecker) compareRefs(i int, old *Object) {
	o := &v.def.Objects[i]
	var keys []string
	for _, fs := range [][]Field{o.Fields, old.Fields} {
		for _, f := range fs {
			if f.RefValue != nil && !containsString(keys, f.Key) {
				keys = append(keys, f.Key)
			}
		}
	}
	for _, k := range keys {
		was, now := refsOf(old, k), refsOf(o, k)
		if strings.Join(was, "\x00") == strings.Join(now, "\x00") {
			continue
		}
		v.err(i, CodeEditChangesReference, "'%s' changed from %s to %s; references of an existing object cannot be added, removed "+
			"or changed once the pipeline has been activated. Add a new object instead, or delete the pipeline and create it again.",
			k, refList(was), refList(now))
	}
}

func refsOf(o *Object, key string) []string {
	var out []string
	for _, f := range o.Fields {
		if f.Key == key && f.RefValue != nil {
			out = append(out, *f.RefValue)
		}
	}
	return out
}

func refList(ids []string) string {
	if len(ids) == 0 {
		return "no reference"
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "'" + id + "'"
	}
	return strings.Join(q, ", ")
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return "'" + s + "'"
}

func containsString(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// samePeriod compares periods by meaning ("1 Hour" and "1 hours" are the
// same), and anything else by text.
func samePeriod(a, b string) bool {
	pa, err1 := expr.ParsePeriod(a)
	pb, err2 := expr.ParsePeriod(b)
	if err1 == nil && err2 == nil {
		return pa == pb
	}
	return strings.EqualFold(a, b)
}
