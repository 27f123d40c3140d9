package pipeline

import (
	"strings"
	"time"

	"github.com/culvert/culvert/internal/expr"
)

// warnings adds the warnings AWS gives for a definition that works but may
// surprise (§7.2): no pipelineLogUri, a resource without terminateAfter, and
// cascade failure on a schedule that backfills.
func (v *ruleChecker) warnings(now time.Time) {
	logWarned := false
	for i := range v.def.Objects {
		if !v.live[i] || !scheduled(v.kind(i)) {
			continue
		}
		e := v.effective(i)
		if _, ok := e.Get("pipelineLogUri"); !ok && !logWarned {
			logWarned = true
			// Once, on Default: that is where the field belongs, and where
			// AWS's samples set it to silence this warning.
			id := DefaultID
			if v.r.dflt < 0 {
				id = v.def.Objects[i].ID
			}
			v.c.warn(id, message(CodeMissingField, "'pipelineLogUri' is not set, so the pipeline's logs are not uploaded to "+
				"Amazon S3; set it on Default, for example to 's3://bucket/logs/'."))
		}
		if v.types[i].Kind == KindResource {
			if _, ok := e.Get("terminateAfter"); !ok {
				v.c.warn(v.def.Objects[i].ID, message(CodeMissingField, "'terminateAfter' is not set, so nothing bounds how long "+
					"the resource runs if a task hangs; set it, for example to '2 Hours'."))
			}
		}
		if !now.IsZero() && !v.onDemand {
			if start, ok := v.backfillStart(i, now); ok {
				// AWS's text (§4.3), start_time as the Schedule writes it.
				v.c.warn(v.def.Objects[i].ID, v.def.Objects[i].ID+" has 'failureAndRerunMode' field set to 'cascade' and you are "+
					"about to create a backfill with scheduleStartTime "+start+". This can result in rapid creation of pipeline "+
					"objects in case of failures.")
			}
		}
	}
}

// backfillStart returns the literal startDateTime of scheduled object i's
// Schedule when i fails in cascade mode and that start is before now.
func (v *ruleChecker) backfillStart(i int, now time.Time) (string, bool) {
	mode, ok := v.str(i, "failureAndRerunMode")
	if !ok || !strings.EqualFold(mode, "cascade") {
		return "", false
	}
	f, ok := v.effective(i).Get("schedule")
	if !ok || f.RefValue == nil {
		return "", false
	}
	j, ok := v.r.index[*f.RefValue]
	if !ok || !v.live[j] {
		return "", false
	}
	start, ok := v.str(j, "startDateTime")
	if !ok {
		return "", false
	}
	t, err := expr.ParseDateTime(start)
	if err != nil || !t.Before(now) {
		return "", false
	}
	return start, true
}
