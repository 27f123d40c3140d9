-- Pipeline runs: the instances and attempts the scheduler creates, the
-- SetStatus commands it has yet to apply, and what tasks need to be
-- followed (their instance, NotBefore, the claiming host, the change feed).

-- Instances and attempts are keyed by (pipeline_id, id) and clustered on that
-- key: the store writes and deletes them by pipeline and never reads them
-- back except all at once when it opens. Rows are small (error details are
-- rare), which is when WITHOUT ROWID pays.
CREATE TABLE instances (
    pipeline_id         TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    component_id        TEXT    NOT NULL,
    type                TEXT    NOT NULL,
    n                   INTEGER NOT NULL,
    version             INTEGER NOT NULL,
    scheduled_start     INTEGER NOT NULL, -- unix nanoseconds, 0 for the zero time, as every time column
    scheduled_end       INTEGER NOT NULL,
    eligible            INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    actual_start        INTEGER NOT NULL,
    actual_end          INTEGER NOT NULL,
    attempt_count       INTEGER NOT NULL,
    tries_left          INTEGER NOT NULL,
    head_attempt        TEXT    NOT NULL,
    resource            TEXT    NOT NULL,
    error_id            TEXT    NOT NULL,
    error_message       TEXT    NOT NULL,
    error_stack         TEXT    NOT NULL,
    cascade_failed_on   TEXT    NOT NULL,
    cancellation_reason TEXT    NOT NULL,
    late_actions_fired  INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE attempts (
    pipeline_id          TEXT    NOT NULL,
    id                   TEXT    NOT NULL,
    instance_id          TEXT    NOT NULL,
    n                    INTEGER NOT NULL,
    status               TEXT    NOT NULL,
    task_id              TEXT    NOT NULL,
    hostname             TEXT    NOT NULL,
    not_before           INTEGER NOT NULL,
    actual_start         INTEGER NOT NULL,
    actual_end           INTEGER NOT NULL,
    report_progress_time INTEGER NOT NULL,
    error_id             TEXT    NOT NULL,
    error_message        TEXT    NOT NULL,
    error_stack          TEXT    NOT NULL,
    PRIMARY KEY (pipeline_id, id)
) STRICT, WITHOUT ROWID;

-- SetStatus commands recorded by the API until the scheduler applies them.
CREATE TABLE commands (
    seq         INTEGER PRIMARY KEY,
    account     TEXT    NOT NULL,
    pipeline_id TEXT    NOT NULL,
    object_ids  TEXT    NOT NULL, -- JSON array of instance or attempt ids
    status      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX commands_pipeline ON commands (pipeline_id);

-- Counters whose next value must never go back, even when the rows that
-- held their highest value are deleted (a pipeline's tasks, a done command):
-- a follower of the task feed or of commands must never see a number twice.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

ALTER TABLE tasks ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

-- Tasks from before the feed existed enter it in queue order.
UPDATE tasks SET change_seq = seq;
