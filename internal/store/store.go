// Package store is the only persistence interface the rest of culvert sees.
//
// A [Store] offers one method per atomic operation, named noun-first so that
// related operations sort together (PipelineCreate, PipelineGet, …). Each
// method is one transaction: it either happens completely and durably before
// it returns nil, or not at all (a caller that can do without the wait for
// durability says so with [Unsynced]). That shape, rather than a general
// transaction callback, lets a backend choose how to reach durability
// cheaply: the SQLite backend serves reads from an in-memory mirror and
// batches the writes of concurrent operations into one commit, while a
// PostgreSQL backend maps each method onto one SQL transaction.
//
// Backends live in store/sqlite (and later store/postgres); none of them is
// imported outside cmd/culvert. Every behaviour a backend must have is tested
// once, in store/storetest, which each backend runs against itself.
//
// Values returned by a Store are snapshots the caller must treat as
// read-only: a backend may share them between callers.
package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// Sentinel errors. Backends translate their driver errors into these in one
// place; nothing above store sees a driver error.
var (
	// ErrNotFound means no such record exists for the account.
	ErrNotFound = errors.New("store: not found")
	// ErrDeleted means the pipeline existed in the account but was deleted.
	ErrDeleted = errors.New("store: deleted")
	// ErrConflict means the operation lost a race with another writer or
	// would break a uniqueness rule.
	ErrConflict = errors.New("store: conflict")
)

// Pipeline is one pipeline with its bookkeeping and its definition versions.
type Pipeline struct {
	Seq         int64 // creation order within the store; ListPipelines pages by it
	Account     string
	ID          string
	Name        string
	UniqueID    string
	Description string
	Creator     string // the principal (account id) that created it, shown as pipelineCreator
	Tags        []pipeline.Tag
	State       pipeline.State
	CreatedAt   time.Time

	// Paused lists the components paused with SetStatus PAUSE, in the
	// order they were paused.
	Paused []string

	// Zero when it has not happened yet.
	FirstActivatedAt  time.Time
	LastActivatedAt   time.Time
	LastDeactivatedAt time.Time

	// ActivationStart is the startTimestamp given to the last
	// ActivatePipeline: intervals before it are skipped. Zero if none.
	ActivationStart time.Time
	// CancelActive is the cancelActive of the last DeactivatePipeline:
	// whether a DEACTIVATING pipeline cancels what is running or lets it
	// finish first.
	CancelActive bool

	// Latest is the definition last put, Active the one last activated.
	// Either may be nil; both may be the same version.
	Latest *Definition
	Active *Definition

	// Summary is the health and run times of the pipeline's run, as the
	// scheduler last stored them with RunApply; nil until then. Callers
	// must not modify it.
	Summary *pipeline.RunSummary
}

// Definition is one immutable version of a pipeline's definition.
type Definition struct {
	Version int64
	// Doc is the JSON encoding of a pipeline.Definition, which is exactly the
	// body of a GetPipelineDefinition response. It must not be modified.
	Doc     []byte
	Errored bool // the version has validation errors and cannot be activated
	PutAt   time.Time

	once    sync.Once
	derived any
}

// Derive returns build(d.Doc) computed on the first call and the same value
// on every later call. Callers use it to cache decoded or pre-encoded forms
// of a version, which is safe because a version never changes.
func (d *Definition) Derive(build func(doc []byte) any) any {
	d.once.Do(func() { d.derived = build(d.Doc) })
	return d.derived
}

// PipelineSummary is a pipeline as ListPipelines shows it.
type PipelineSummary struct {
	Seq  int64
	ID   string
	Name string
}

// PipelineCreateParams are the inputs of [Store.PipelineCreate].
type PipelineCreateParams struct {
	Account     string
	ID          string // the id to use if a new pipeline is created
	Name        string
	UniqueID    string
	Description string
	Creator     string
	Tags        []pipeline.Tag
	Now         time.Time
}

// Task is one unit of work handed to task runners: the attempt of an
// instance, as PollForTask delivers it.
type Task struct {
	ID          string
	Account     string
	PipelineID  string
	AttemptID   string
	InstanceID  string
	WorkerGroup string
	// Objects is the JSON of the TaskObject's objects map. Once no runner
	// can claim the task (it is done, or was canceled while queued),
	// nothing reads them again, and a backend may drop them: every method
	// may then return the task with Objects nil or empty. They are most of
	// a task's bytes, and kept they would grow the store by a few KB for
	// every task ever run.
	Objects []byte
	// NotBefore, when not zero, is when the task becomes claimable: a retry
	// waits retryDelay after the failure it follows.
	NotBefore time.Time
	// Hostname is what the runner that claimed it said it runs on.
	Hostname string
	// ProgressTimeout, when positive, is how long the lease lasts after
	// each progress report: the attempt's reportProgressTimeout. Zero
	// leaves it to TaskProgressParams.LeaseUntil, the server's default.
	ProgressTimeout time.Duration
	// ChangeSeq orders the task's last change (enqueue, claim, completion,
	// cancel, loss) among every task change in the store; see TaskChanges.
	ChangeSeq int64

	Status       TaskStatus
	LeaseOwner   string    // hostname or runner that claimed it
	LeaseExpires time.Time // zero while queued
	Canceled     bool      // runners are told to stop on their next progress report
	ErrorID      string
	ErrorMessage string
	ErrorStack   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// ClaimedAt is when a runner claimed it (TaskClaimParams.Now), zero
	// while it is queued: the attempt's start.
	ClaimedAt time.Time
	// ProgressedAt is when the runner last reported progress
	// (TaskProgress), zero until it first does: the attempt's
	// reportProgressTime.
	ProgressedAt time.Time
	// LogLocation is where the runner said the attempt's logs are, the
	// last one its progress reports named (TaskProgressParams); empty
	// until one does. The attempt's @logLocation.
	LogLocation string
}

// TaskStatus is where a task is in its queue lifecycle.
type TaskStatus string

// Task statuses. FINISHED, FAILED and FALSE are the SetTaskStatus outcomes.
const (
	TaskQueued   TaskStatus = "QUEUED"
	TaskClaimed  TaskStatus = "CLAIMED"
	TaskFinished TaskStatus = "FINISHED"
	TaskFailed   TaskStatus = "FAILED"
	TaskFalse    TaskStatus = "FALSE"
	// TaskLost: the lease of a claimed task expired before its runner
	// completed it (see TaskReap). The attempt is over; a retry is a new
	// task.
	TaskLost TaskStatus = "LOST"
)

// Done reports whether the status is terminal.
func (s TaskStatus) Done() bool {
	return s == TaskFinished || s == TaskFailed || s == TaskFalse || s == TaskLost
}

// TaskClaimParams are the inputs of [Store.TaskClaim].
type TaskClaimParams struct {
	Account     string
	WorkerGroup string
	Owner       string
	Hostname    string
	LeaseUntil  time.Time
	Now         time.Time
}

// RunState is everything stored about the run of one pipeline: what the
// scheduler resumes from and what DescribeObjects and QueryObjects read.
type RunState struct {
	// Instances ordered by (ScheduledStart, ID).
	Instances []*pipeline.Instance
	// Attempts ordered by ID.
	Attempts []*pipeline.Attempt
	// Tasks of the pipeline, in queue order. Their Objects may be nil:
	// only a claim hands a task's objects out, and they are most of a
	// run's bytes, which a backend that reads them from a database
	// server would otherwise send on every DescribeObjects.
	Tasks []*Task
	// Commands not yet applied, in the order they were added.
	Commands []*RunCommand
	// ChangeSeq is the highest task ChangeSeq issued when the state was
	// read: the state reflects every task change up to it, so a follower
	// of TaskChanges resumes the pipeline's tasks after it.
	ChangeSeq int64
}

// RunChanges is one step of a pipeline's run, applied atomically by
// [Store.RunApply].
type RunChanges struct {
	Account    string
	PipelineID string
	// Instances and Attempts are inserted, or replace the stored ones
	// with the same ID; the store keeps copies, so the caller may go on
	// changing its own. If one ID appears twice, the later one counts.
	Instances []*pipeline.Instance
	Attempts  []*pipeline.Attempt
	// Tasks are enqueued as QUEUED, in order, with the Account and
	// PipelineID above; their ids must be new. Only ID, AttemptID,
	// InstanceID, WorkerGroup, Objects, NotBefore and CreatedAt are read.
	Tasks []*Task
	// Cancel lists task ids whose runners are told to stop: Canceled is
	// set on tasks of the pipeline not yet done, and ignored for the
	// others. A canceled task that is still queued is never claimed.
	Cancel []string
	// CommandsDone lists the Seq of commands the step applied; they are
	// removed. Unknown Seqs are ignored.
	CommandsDone []int64
	// State, when not empty, becomes the pipeline's state.
	State pipeline.State
	// Summary, when not nil, becomes the pipeline's Summary; the store
	// keeps it as given, so the caller must not change it afterwards.
	// Every reader sees it at once, but a backend may make it durable
	// lazily, up to a second late, unless the step also sets State: a
	// summary is derived from the run, and the scheduler stores a fresh
	// one at its first step after loading a running pipeline, so only the
	// last one of a pipeline that stopped running must not be lost.
	Summary *pipeline.RunSummary
	// Alarms are queued for delivery with the step, so that an alarm
	// fires if and only if the step that fired it is stored. Only Sink,
	// ActionID, InstanceID, Event, TopicArn, Subject, Message and Role
	// are read; the store assigns Seq (also set in each Alarm) and sets
	// Account, PipelineID, CreatedAt and NextTry from the step.
	Alarms []*Alarm
	Now    time.Time
}

// Alarm is an SnsAlarm that fired, queued for one delivery sink (a
// webhook, an SNS endpoint) until the sink takes it or gives up on it.
// Each sink has its own row, so a sink that fails does not make another
// deliver twice.
type Alarm struct {
	// Seq is assigned by the store, increasing and never reused.
	Seq        int64
	Sink       string // the name of the sink that delivers it
	Account    string
	PipelineID string
	ActionID   string // the SnsAlarm object
	InstanceID string // the instance it fired for: its node
	Event      string // onSuccess, onFail or onLateAction
	// TopicArn, Subject, Message and Role are the alarm's fields,
	// evaluated with node bound to the instance.
	TopicArn, Subject, Message, Role string
	CreatedAt                        time.Time
	// Tries counts failed deliveries; NextTry is when the next is due and
	// LastError says why the last one failed.
	Tries     int
	NextTry   time.Time
	LastError string
}

// AlarmSettleParams are the inputs of [Store.AlarmSettle].
type AlarmSettleParams struct {
	Seq int64
	// Done removes the alarm: delivered, or given up on. Otherwise Tries
	// grows by one, and NextTry and LastError are recorded.
	Done      bool
	NextTry   time.Time
	LastError string
}

// RunCommand is a SetStatus on instances or attempts, recorded by the API
// for the scheduler, which owns the run, to apply.
type RunCommand struct {
	// Seq is assigned by the store, increasing across the store and never
	// reused, even after the command is done or the store reopened.
	Seq        int64
	Account    string
	PipelineID string
	ObjectIDs  []string
	Status     string // TRY_CANCEL, RERUN or MARK_FINISHED
	CreatedAt  time.Time
}

// TaskProgressParams are the inputs of [Store.TaskProgress].
type TaskProgressParams struct {
	Account string
	ID      string
	// LeaseUntil is the new lease end for a task without its own
	// ProgressTimeout; a task with one is leased until Now plus it.
	LeaseUntil time.Time
	Now        time.Time
	// LogLocation, when not empty, becomes the task's LogLocation; an
	// empty one keeps what an earlier report said, since runners name
	// it once, in their acknowledgement.
	LogLocation string
}

// TaskCompleteParams are the inputs of [Store.TaskComplete].
type TaskCompleteParams struct {
	Account      string
	ID           string
	Status       TaskStatus // TaskFinished, TaskFailed or TaskFalse
	ErrorID      string
	ErrorMessage string
	ErrorStack   string
	Now          time.Time
}

// RunnerHeartbeatParams are the inputs of [Store.RunnerHeartbeat].
type RunnerHeartbeatParams struct {
	Account     string
	RunnerID    string
	WorkerGroup string
	Hostname    string
	Now         time.Time
}

// Store persists pipelines, their definitions and their tasks. All methods
// are safe for concurrent use. Every method returns ctx.Err() if ctx ends
// before it completes; a write whose ctx ends may still have been applied.
// Any other error not listed for a method is an internal failure.
type Store interface {
	// AlarmSettle records the outcome of delivering an alarm (see
	// AlarmSettleParams). It returns ErrNotFound if no such alarm is
	// queued.
	AlarmSettle(ctx context.Context, p *AlarmSettleParams) error

	// AlarmsDue returns up to limit queued alarms of the sink whose
	// NextTry is not after now, in Seq order, and the earliest NextTry
	// after now among the others of the sink (zero if none).
	AlarmsDue(ctx context.Context, sink string, now time.Time, limit int) ([]*Alarm, time.Time, error)

	// PipelineCreate creates a pipeline from p, unless a live (not deleted)
	// pipeline with the same Account, Name and UniqueID exists, in which
	// case it returns that one and created=false. It returns ErrConflict if
	// p.ID is already taken.
	PipelineCreate(ctx context.Context, p *PipelineCreateParams) (pl *Pipeline, created bool, err error)

	// PipelineDelete deletes a pipeline with its definitions, tasks, run
	// state and commands, leaving a tombstone, and wakes the scheduler
	// (SchedulerTopic). It returns ErrNotFound if the account has no such
	// pipeline and ErrDeleted if it was already deleted.
	PipelineDelete(ctx context.Context, account, id string, now time.Time) error

	// PipelineGet returns a pipeline. It returns ErrNotFound if the account
	// has no such pipeline and ErrDeleted if it was deleted.
	PipelineGet(ctx context.Context, account, id string) (*Pipeline, error)

	// PipelineList returns up to limit (at least 0) live pipelines of the account in
	// creation order, starting after the one with Seq afterSeq (0 = from the
	// start), and whether more follow.
	PipelineList(ctx context.Context, account string, afterSeq int64, limit int) ([]PipelineSummary, bool, error)

	// PipelineUpdate applies fn to a copy of the pipeline and stores the
	// result atomically: no other write to the pipeline happens between the
	// read fn sees and the write. fn may change Description, Tags, Paused, State, ActivationStart, CancelActive,
	// the activation times, and Latest and Active (a new *Definition for Latest
	// stores a new version, numbered above every version the pipeline ever
	// had; Latest may also be set back to Active; Active may be set to the
	// current Latest). If fn
	// returns an error, nothing is stored and that error is returned as is.
	// fn runs under the store's write guarantee, so it must be quick and
	// must not call the store; a backend may call it more than once if it
	// retries a conflicting transaction. A stored update wakes the
	// scheduler (SchedulerTopic).
	// It returns ErrNotFound or ErrDeleted like PipelineGet.
	PipelineUpdate(ctx context.Context, account, id string, fn func(p *Pipeline) error) (*Pipeline, error)

	// PipelinesRunning returns every live pipeline, of every account, whose
	// state is SCHEDULED or DEACTIVATING (the pipelines the scheduler
	// drives), in creation order.
	PipelinesRunning(ctx context.Context) ([]*Pipeline, error)

	// RunApply applies one step of a pipeline's run atomically (see
	// RunChanges) and, once it is durable, wakes the pollers of every
	// worker group that got a task claimable at c.Now, and the alarm
	// dispatchers (AlarmTopic) if it queued alarms. It returns
	// ErrNotFound or ErrDeleted like PipelineGet, and ErrConflict if a new
	// task's id is taken or repeated; nothing is applied then.
	RunApply(ctx context.Context, c *RunChanges) error

	// RunCommandAdd records a command for the scheduler, assigning its Seq
	// (also set in c), and wakes the scheduler. It returns ErrNotFound or
	// ErrDeleted like PipelineGet.
	RunCommandAdd(ctx context.Context, c *RunCommand) error

	// RunCommands returns every command not yet applied, of every
	// pipeline, in Seq order.
	RunCommands(ctx context.Context) ([]*RunCommand, error)

	// RunLoad returns what is stored about a pipeline's run (see RunState);
	// a pipeline that never ran has an empty one. It returns ErrNotFound
	// or ErrDeleted like PipelineGet.
	RunLoad(ctx context.Context, account, pipelineID string) (*RunState, error)

	// RunnerHeartbeat records that a task runner is alive.
	RunnerHeartbeat(ctx context.Context, p *RunnerHeartbeatParams) error

	// TaskChangeHead returns the highest ChangeSeq issued so far, so that a
	// scheduler starting up can follow TaskChanges from there.
	TaskChangeHead(ctx context.Context) (int64, error)

	// TaskChanges returns up to limit tasks, of every account, whose last
	// change has a ChangeSeq above after, in ChangeSeq order, and the
	// highest ChangeSeq returned (after, if none). The scheduler follows
	// this feed to learn of claims and outcomes from any node. Changes
	// become visible in ChangeSeq order: once a call has returned n, no
	// change numbered n or less appears later, even across a reopen.
	// A task changed again since after is returned once, as it is now.
	// Its Objects may be nil, as in a RunState.
	TaskChanges(ctx context.Context, after int64, limit int) ([]*Task, int64, error)

	// TaskClaim leases the oldest claimable task of the worker group to
	// p.Owner until p.LeaseUntil, recording p.Hostname, and wakes the
	// scheduler. A task is claimable when it is queued, not canceled, and
	// its NotBefore is not after p.Now. A claimed task whose lease expires
	// is not claimed again: TaskReap ends it. It returns ErrNotFound when
	// nothing is claimable.
	TaskClaim(ctx context.Context, p *TaskClaimParams) (*Task, error)

	// TaskComplete records the outcome of a claimed task and wakes the
	// scheduler. It returns ErrNotFound if the account has no such task,
	// or the task is still queued or already done (LOST included: a runner
	// whose lease was reaped has lost the task).
	TaskComplete(ctx context.Context, p *TaskCompleteParams) (*Task, error)

	// TaskEnqueue adds a queued task and wakes pollers of its worker group.
	// It returns ErrNotFound if the pipeline does not exist, and ErrConflict
	// if the task id is taken.
	TaskEnqueue(ctx context.Context, t *Task) error

	// TaskNextAvailable returns the earliest NotBefore after now among the
	// queued, uncanceled tasks, zero if none: when a waiting poller may
	// next find work that no enqueue will announce.
	TaskNextAvailable(ctx context.Context, now time.Time) (time.Time, error)

	// TaskProgress extends the lease of a claimed task and returns it, so the
	// caller can see whether it was canceled. It returns ErrNotFound if the
	// account has no such task, or the task is still queued or done.
	// It records p.Now as the task's ProgressedAt, and p.LogLocation,
	// when set, as its LogLocation. Progress is not a change in the
	// TaskChanges feed, and wakes the scheduler (SchedulerTopic) only
	// when it shortens the lease, which moves the next reap sooner.
	TaskProgress(ctx context.Context, p *TaskProgressParams) (*Task, error)

	// TaskReap marks LOST every claimed task whose lease expired before
	// now, and returns how many it marked; if any, it wakes the scheduler.
	TaskReap(ctx context.Context, now time.Time) (int, error)

	// TaskLeaseNext returns the earliest lease end among claimed tasks,
	// zero if none: when TaskReap may next find work. A progress report
	// may extend that lease later without waking anyone.
	TaskLeaseNext(ctx context.Context) (time.Time, error)

	// Notifier returns the notifier that wakes long-polls when tasks appear.
	Notifier() Notifier

	// Close releases the store. Writes in flight finish first.
	Close() error
}

// Notifier wakes waiters interested in a topic, such as a worker group.
// Notifications carry no data and may be coalesced: a waiter learns only
// that something may have changed and must look again.
type Notifier interface {
	// Publish wakes every current subscriber of topic.
	Publish(topic string)
	// Subscribe returns a channel that receives after the next Publish of
	// topic, and a cancel function that must be called when done.
	Subscribe(topic string) (<-chan struct{}, func())
}

// AlarmTopic is published once alarms queued by RunApply are durable.
const AlarmTopic = "\x00alarms"

// TaskTopic is the notifier topic of an account's worker group.
func TaskTopic(account, workerGroup string) string { return account + "\x00" + workerGroup }

// SchedulerTopic is published after every change the scheduler must react
// to: a pipeline updated or deleted (activation, deactivation, a new
// definition, PAUSE and RESUME), a task claimed, completed or lost, and a
// run command added.
const SchedulerTopic = "\x00scheduler"

// Leases is implemented by a store that several culvert nodes share. A
// lease is a named row that one holder at a time may have until it
// expires; the leader lease decides which node runs the scheduler, reaps
// task leases and delivers alarms. Times are the store's clock, so that
// nodes whose clocks disagree still agree on who holds a lease. A store
// one process owns (SQLite) does not implement it: its node always leads.
type Leases interface {
	// LeaseAcquire takes the lease p.Name for p.Holder until p.TTL after
	// the store's clock, if it is free, expired or already p.Holder's
	// (a renewal), and returns it. The Term grows by one each time the
	// lease passes to a holder that did not have it; a renewal keeps it.
	// If another holder has the lease unexpired, it returns that holder's
	// lease and ErrConflict.
	LeaseAcquire(ctx context.Context, p *LeaseParams) (*Lease, error)

	// LeaseRelease ends p.Holder's lease at once, so that another node
	// need not wait for it to expire. It returns ErrNotFound if p.Holder
	// does not hold the lease.
	LeaseRelease(ctx context.Context, name, holder string) error

	// LeaseGet returns the lease, expired or not. It returns ErrNotFound
	// if nobody ever took it.
	LeaseGet(ctx context.Context, name string) (*Lease, error)
}

// LeaseParams are the inputs of [Leases.LeaseAcquire].
type LeaseParams struct {
	Name   string
	Holder string
	TTL    time.Duration
}

// Lease is a lease as the store last recorded it.
type Lease struct {
	Name   string
	Holder string
	Term   int64
	// AcquiredAt is when the current term began, Expires when the lease
	// lapses unless renewed, and Now the store's clock when it was read,
	// all by the store's clock.
	AcquiredAt time.Time
	Expires    time.Time
	Now        time.Time
}

// ErrFenced is returned by a write made under [Fenced] when its lease has
// passed to another term: the writer is no longer the leader and its
// write is not applied.
var ErrFenced = errors.New("store: lease lost")

type fenceKey struct{}

// Fence names a lease term that writes must still hold.
type Fence struct {
	Name   string
	Holder string
	Term   int64
}

// Fenced returns a context under which every write of a store that
// implements [Leases] is applied only if f's holder still holds the lease
// in f's term, unexpired, when the write commits; otherwise the write
// returns ErrFenced and changes nothing. The leader's work runs under it,
// so that a node that stalled past its lease (a long GC pause, a frozen
// VM) cannot write over the work of the node that took over. Stores
// without Leases ignore it.
func Fenced(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf returns the fence of a context from [Fenced], if any.
func FenceOf(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}
