-- Tasks are keyed by their queue position (seq), the table's rowid, with no
-- index. The store holds every task in memory and checks ids there, so the
-- UNIQUE index on the random task id and the index on pipeline_id only
-- cost writes: each queued task dirtied a random page of the id index, and
-- each claim, progress report and completion found its row through it.
-- Rows are now found by rowid, and new ones append to the table's last
-- page, next to the tasks queued with them.
CREATE TABLE tasks_by_seq (
    seq              INTEGER PRIMARY KEY, -- queue order
    id               TEXT    NOT NULL,
    account          TEXT    NOT NULL,
    pipeline_id      TEXT    NOT NULL,
    attempt_id       TEXT    NOT NULL,
    instance_id      TEXT    NOT NULL,
    worker_group     TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    not_before       INTEGER NOT NULL,
    hostname         TEXT    NOT NULL,
    lease_owner      TEXT    NOT NULL,
    lease_expires    INTEGER NOT NULL,
    canceled         INTEGER NOT NULL,
    error_id         TEXT    NOT NULL,
    error_message    TEXT    NOT NULL,
    error_stack      TEXT    NOT NULL,
    change_seq       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    progress_timeout INTEGER NOT NULL
) STRICT;

INSERT INTO tasks_by_seq (seq, id, account, pipeline_id, attempt_id, instance_id, worker_group, status, not_before,
    hostname, lease_owner, lease_expires, canceled, error_id, error_message, error_stack, change_seq, created_at,
    updated_at, progress_timeout)
SELECT seq, id, account, pipeline_id, attempt_id, instance_id, worker_group, status, not_before,
    hostname, lease_owner, lease_expires, canceled, error_id, error_message, error_stack, change_seq, created_at,
    updated_at, progress_timeout
FROM tasks;

DROP TABLE tasks;
ALTER TABLE tasks_by_seq RENAME TO tasks;
