-- Culvert's schema on PostgreSQL. Every time column is a timestamptz that
-- is NULL for Go's zero time; PostgreSQL keeps microseconds. Identifiers
-- that culvert orders or compares use the "C" collation, so that the
-- database sorts them as Go does, byte by byte.

-- Pipelines, live and deleted. A deleted pipeline keeps its row as a
-- tombstone (deleted set, definitions, runs and tasks removed) so that
-- later calls answer PipelineDeletedException, and so that its id is
-- never reused.
CREATE TABLE pipelines (
    seq                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- creation order; ListPipelines pages by it
    id                  text COLLATE "C" NOT NULL UNIQUE,
    account             text COLLATE "C" NOT NULL,
    name                text COLLATE "C" NOT NULL,
    unique_id           text COLLATE "C" NOT NULL,
    description         text NOT NULL DEFAULT '',
    creator             text NOT NULL DEFAULT '',
    tags                jsonb NOT NULL DEFAULT '[]', -- [{"key", "value"}] in the caller's order
    paused              text[] NOT NULL DEFAULT '{}',
    state               text NOT NULL,
    created_at          timestamptz,
    first_activated_at  timestamptz,
    last_activated_at   timestamptz,
    last_deactivated_at timestamptz,
    activation_start    timestamptz,
    cancel_active       boolean NOT NULL DEFAULT false,
    latest_version      bigint,
    active_version      bigint,
    last_version        bigint NOT NULL DEFAULT 0, -- highest version ever issued; numbers are never reused
    run_summary         jsonb,                     -- pipeline.RunSummary; NULL until the scheduler stores one
    deleted             boolean NOT NULL DEFAULT false,
    deleted_at          timestamptz
);

-- CreatePipeline's idempotency key, among live pipelines only: a deleted
-- pipeline's key is free again.
CREATE UNIQUE INDEX pipelines_idempotency ON pipelines (account, name, unique_id) WHERE NOT deleted;
CREATE INDEX pipelines_account ON pipelines (account, seq) WHERE NOT deleted;
CREATE INDEX pipelines_running ON pipelines (seq) WHERE NOT deleted AND state IN ('SCHEDULED', 'DEACTIVATING');

-- Definition versions. Only the versions a pipeline points at (latest and
-- active) are kept, each exactly as encoded once when it was put.
CREATE TABLE definitions (
    pipeline_id text COLLATE "C" NOT NULL,
    version     bigint NOT NULL,
    doc         bytea NOT NULL,
    errored     boolean NOT NULL,
    put_at      timestamptz,
    PRIMARY KEY (pipeline_id, version)
);

-- Tasks, from queued to done; a deleted pipeline's are deleted with it.
-- change_seq numbers a task's last change for the task feed: the id of the
-- transaction that made it, shifted left by 20 bits, plus the change's
-- ordinal within that transaction (see feed.go).
CREATE TABLE tasks (
    id               text COLLATE "C" PRIMARY KEY,
    queue_seq        bigint GENERATED ALWAYS AS IDENTITY, -- queue order
    account          text COLLATE "C" NOT NULL,
    pipeline_id      text COLLATE "C" NOT NULL,
    attempt_id       text NOT NULL,
    instance_id      text NOT NULL,
    worker_group     text COLLATE "C" NOT NULL,
    objects          bytea NOT NULL,
    not_before       timestamptz,
    progress_timeout bigint NOT NULL DEFAULT 0, -- nanoseconds; 0 for the server's default
    status           text NOT NULL,
    canceled         boolean NOT NULL DEFAULT false,
    hostname         text NOT NULL DEFAULT '',
    lease_owner      text NOT NULL DEFAULT '',
    lease_expires    timestamptz,
    claimed_at       timestamptz,
    progressed_at    timestamptz,
    log_location     text NOT NULL DEFAULT '',
    error_id         text NOT NULL DEFAULT '',
    error_message    text NOT NULL DEFAULT '',
    error_stack      text NOT NULL DEFAULT '',
    change_seq       bigint NOT NULL,
    created_at       timestamptz,
    updated_at       timestamptz
);

-- TaskClaim: the oldest claimable task of a worker group.
CREATE INDEX tasks_queue ON tasks (account, worker_group, queue_seq) WHERE status = 'QUEUED' AND NOT canceled;
-- TaskNextAvailable: retries waiting for their NotBefore.
CREATE INDEX tasks_not_before ON tasks (not_before) WHERE status = 'QUEUED' AND NOT canceled AND not_before IS NOT NULL;
-- TaskReap and TaskLeaseNext.
CREATE INDEX tasks_leased ON tasks (lease_expires) WHERE status = 'CLAIMED';
-- TaskChanges and TaskChangeHead.
CREATE INDEX tasks_changes ON tasks (change_seq);
-- RunLoad, PipelineDelete and RunApply's cancels.
CREATE INDEX tasks_pipeline ON tasks (pipeline_id, queue_seq);

CREATE TABLE runners (
    account      text COLLATE "C" NOT NULL,
    runner_id    text COLLATE "C" NOT NULL,
    worker_group text NOT NULL,
    hostname     text NOT NULL,
    last_seen    timestamptz,
    PRIMARY KEY (account, runner_id)
);

-- Pipeline runs: the instances and attempts the scheduler creates.
CREATE TABLE instances (
    pipeline_id         text COLLATE "C" NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    component_id        text NOT NULL,
    type                text NOT NULL,
    n                   bigint NOT NULL,
    version             bigint NOT NULL,
    scheduled_start     timestamptz,
    scheduled_end       timestamptz,
    eligible            timestamptz,
    status              text NOT NULL,
    actual_start        timestamptz,
    actual_end          timestamptz,
    attempt_count       bigint NOT NULL,
    tries_left          bigint NOT NULL,
    head_attempt        text NOT NULL,
    resource            text NOT NULL,
    node                text NOT NULL,
    error_id            text NOT NULL,
    error_message       text NOT NULL,
    error_stack         text NOT NULL,
    cascade_failed_on   text NOT NULL,
    cancellation_reason text NOT NULL,
    late_actions_fired  boolean NOT NULL,
    events              jsonb NOT NULL, -- the actions fired, as a JSON array of strings
    PRIMARY KEY (pipeline_id, id)
);

CREATE TABLE attempts (
    pipeline_id          text COLLATE "C" NOT NULL,
    id                   text COLLATE "C" NOT NULL,
    instance_id          text NOT NULL,
    n                    bigint NOT NULL,
    status               text NOT NULL,
    task_id              text NOT NULL,
    hostname             text NOT NULL,
    not_before           timestamptz,
    actual_start         timestamptz,
    actual_end           timestamptz,
    report_progress_time timestamptz,
    log_location         text NOT NULL,
    error_id             text NOT NULL,
    error_message        text NOT NULL,
    error_stack          text NOT NULL,
    PRIMARY KEY (pipeline_id, id)
);

-- SetStatus commands recorded by the API until the scheduler applies them.
-- A sequence never issues a number twice, even once the rows that held the
-- highest are gone.
CREATE TABLE commands (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     text COLLATE "C" NOT NULL,
    pipeline_id text COLLATE "C" NOT NULL,
    object_ids  text[] NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz
);

CREATE INDEX commands_pipeline ON commands (pipeline_id, seq);

-- Alarms fired and not yet delivered, one row per delivery sink, queued
-- in the same transaction as the run step that fired them.
CREATE TABLE alarms (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sink        text COLLATE "C" NOT NULL,
    account     text NOT NULL,
    pipeline_id text NOT NULL,
    action_id   text NOT NULL,
    instance_id text NOT NULL,
    event       text NOT NULL,
    topic_arn   text NOT NULL,
    subject     text NOT NULL,
    message     text NOT NULL,
    role        text NOT NULL,
    created_at  timestamptz,
    tries       bigint NOT NULL DEFAULT 0,
    next_try    timestamptz,
    last_error  text NOT NULL DEFAULT ''
);

CREATE INDEX alarms_sink ON alarms (sink, seq);

-- Leases (store.Leases), by the database's clock. The unique index on
-- (name, term) makes a change of term a key update in PostgreSQL's row
-- locking: a fenced write holds its lease row FOR KEY SHARE, which a
-- takeover (a new term) must wait for but a renewal (same term) need not.
CREATE TABLE leases (
    name        text COLLATE "C" PRIMARY KEY,
    holder      text NOT NULL,
    term        bigint NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    UNIQUE (name, term)
);
