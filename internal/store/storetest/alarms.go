package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/culvert/culvert/internal/store"
)

func alarm(sink, instanceID string) *store.Alarm {
	return &store.Alarm{
		Sink: sink, ActionID: "FailAlarm", InstanceID: instanceID, Event: "onFail",
		TopicArn: "arn:aws:sns:us-east-1:111111111111:ops", Subject: "failed: " + instanceID,
		Message: "line 1\nünï \"quoted\"", Role: "DataPipelineDefaultRole",
	}
}

func (b *testBundle) due(t *testing.T, sink string, now time.Time, limit int) ([]*store.Alarm, time.Time) {
	t.Helper()
	due, next, err := b.s.AlarmsDue(b.ctx, sink, now, limit)
	if err != nil {
		t.Fatalf("AlarmsDue(%s) error: %v", sink, err)
	}
	return due, next
}

func alarmSeqs(as []*store.Alarm) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.Seq
	}
	return out
}

// testAlarms checks the alarm outbox: RunApply queues alarms with the
// step, AlarmsDue hands them out per sink in Seq order, AlarmSettle
// retries or removes them, and all of it survives a reopen without a Seq
// issued twice.
func testAlarms(t *testing.T, opts Options) {
	t.Parallel()
	s, b := setup(t, opts)
	p := b.create(t, createParams(acctA, "df-ALARMS0001", "orders"))
	ch, cancel := s.Notifier().Subscribe(store.AlarmTopic)
	defer cancel()

	in := []*store.Alarm{alarm("webhook", "@A_1"), alarm("sns", "@A_1"), alarm("webhook", "@A_2")}
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Alarms: in, Now: t0})
	if !received(ch, 5*time.Second) {
		t.Fatal("RunApply with alarms did not publish AlarmTopic")
	}
	if in[0].Seq <= 0 || in[1].Seq <= in[0].Seq || in[2].Seq <= in[1].Seq {
		t.Fatalf("RunApply set Seqs %v, want increasing from 1", alarmSeqs(in))
	}
	want := alarm("webhook", "@A_1")
	want.Seq, want.Account, want.PipelineID, want.CreatedAt, want.NextTry = in[0].Seq, acctA, p.ID, t0, t0

	got, next := b.due(t, "webhook", t0, 10)
	if diff := cmp.Diff([]int64{in[0].Seq, in[2].Seq}, alarmSeqs(got)); diff != "" {
		t.Fatalf("AlarmsDue(webhook) seqs mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got[0], cmpOpts...); diff != "" {
		t.Errorf("AlarmsDue(webhook)[0] mismatch (-want +got):\n%s", diff)
	}
	if !next.IsZero() {
		t.Errorf("AlarmsDue(webhook) next = %v, want zero with nothing waiting", next)
	}
	if got, _ := b.due(t, "webhook", t0, 1); len(got) != 1 || got[0].Seq != in[0].Seq {
		t.Errorf("AlarmsDue(webhook, limit 1) = %v, want [%d]", alarmSeqs(got), in[0].Seq)
	}
	if got, _ := b.due(t, "nowhere", t0, 10); len(got) != 0 {
		t.Errorf("AlarmsDue(nowhere) = %v, want none", alarmSeqs(got))
	}

	// A failed delivery waits for its NextTry.
	if err := s.AlarmSettle(b.ctx, &store.AlarmSettleParams{Seq: in[0].Seq, NextTry: at(time.Minute), LastError: "503 ünï"}); err != nil {
		t.Fatalf("AlarmSettle(retry) error: %v", err)
	}
	got, next = b.due(t, "webhook", at(time.Second), 10)
	if diff := cmp.Diff([]int64{in[2].Seq}, alarmSeqs(got)); diff != "" {
		t.Errorf("AlarmsDue after a retry seqs mismatch (-want +got):\n%s", diff)
	}
	if !next.Equal(at(time.Minute)) {
		t.Errorf("AlarmsDue after a retry next = %v, want %v", next, at(time.Minute))
	}
	want.Tries, want.NextTry, want.LastError = 1, at(time.Minute), "503 ünï"
	got, _ = b.due(t, "webhook", at(time.Minute), 10)
	if len(got) != 2 {
		t.Fatalf("AlarmsDue at NextTry = %v, want both webhook alarms", alarmSeqs(got))
	}
	if diff := cmp.Diff(want, got[0], cmpOpts...); diff != "" {
		t.Errorf("retried alarm mismatch (-want +got):\n%s", diff)
	}

	// Done removes; settling it again is ErrNotFound.
	if err := s.AlarmSettle(b.ctx, &store.AlarmSettleParams{Seq: in[2].Seq, Done: true}); err != nil {
		t.Fatalf("AlarmSettle(done) error: %v", err)
	}
	wantErr(t, "AlarmSettle(removed)", s.AlarmSettle(b.ctx, &store.AlarmSettleParams{Seq: in[2].Seq, Done: true}), store.ErrNotFound)
	wantErr(t, "AlarmSettle(unknown)", s.AlarmSettle(b.ctx, &store.AlarmSettleParams{Seq: 1 << 40}), store.ErrNotFound)
	highest := in[2].Seq

	if opts.Reopen == nil {
		return
	}
	s = opts.Reopen(t, s)
	b = &testBundle{s: s, ctx: b.ctx}
	got, _ = b.due(t, "webhook", at(time.Hour), 10)
	if len(got) != 1 {
		t.Fatalf("after reopen AlarmsDue(webhook) = %v, want [%d]", alarmSeqs(got), in[0].Seq)
	}
	if diff := cmp.Diff(want, got[0], cmpOpts...); diff != "" {
		t.Errorf("after reopen alarm mismatch (-want +got):\n%s", diff)
	}
	if got, _ := b.due(t, "sns", t0, 10); len(got) != 1 || got[0].Seq != in[1].Seq {
		t.Errorf("after reopen AlarmsDue(sns) = %v, want [%d]", alarmSeqs(got), in[1].Seq)
	}
	// The highest Seq was deleted before the reopen; it is not issued again.
	more := []*store.Alarm{alarm("webhook", "@A_3")}
	b.apply(t, &store.RunChanges{Account: acctA, PipelineID: p.ID, Alarms: more, Now: t0})
	if more[0].Seq <= highest {
		t.Errorf("after reopen a new alarm got Seq %d, want above %d", more[0].Seq, highest)
	}
}
