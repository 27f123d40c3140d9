-- Pipelines, live and deleted. A deleted pipeline keeps its row as a
-- tombstone (deleted_at set, definitions and tasks removed) so that later
-- calls can answer PipelineDeletedException instead of "not found".
CREATE TABLE pipelines (
    seq                 INTEGER PRIMARY KEY,          -- creation order; ListPipelines pages by it
    id                  TEXT    NOT NULL UNIQUE,
    account             TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    unique_id           TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    creator             TEXT    NOT NULL DEFAULT '',
    tags                TEXT    NOT NULL DEFAULT '[]', -- JSON array of {key,value}
    paused              TEXT    NOT NULL DEFAULT '[]', -- JSON array of component ids
    state               TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,             -- unix nanoseconds, as every time column
    first_activated_at  INTEGER NOT NULL DEFAULT 0,
    last_activated_at   INTEGER NOT NULL DEFAULT 0,
    last_deactivated_at INTEGER NOT NULL DEFAULT 0,
    latest_version      INTEGER,
    active_version      INTEGER,
    last_version        INTEGER NOT NULL DEFAULT 0,    -- highest version ever issued; numbers are never reused
    deleted_at          INTEGER
) STRICT;

CREATE INDEX pipelines_account_seq ON pipelines (account, seq);

-- Definition versions. Only the versions a pipeline still points at (latest
-- and active) are kept; each is the JSON document GetPipelineDefinition
-- returns, stored exactly as encoded once on put.
CREATE TABLE definitions (
    pipeline_id TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    doc         BLOB    NOT NULL,
    errored     INTEGER NOT NULL,
    put_at      INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, version)
) STRICT;

CREATE TABLE tasks (
    id            TEXT    PRIMARY KEY,
    seq           INTEGER NOT NULL,                   -- queue order
    account       TEXT    NOT NULL,
    pipeline_id   TEXT    NOT NULL,
    attempt_id    TEXT    NOT NULL,
    worker_group  TEXT    NOT NULL,
    objects       BLOB    NOT NULL,
    status        TEXT    NOT NULL,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_expires INTEGER NOT NULL DEFAULT 0,
    canceled      INTEGER NOT NULL DEFAULT 0,
    error_id      TEXT    NOT NULL DEFAULT '',
    error_message TEXT    NOT NULL DEFAULT '',
    error_stack   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX tasks_pipeline ON tasks (pipeline_id);

CREATE TABLE runners (
    account      TEXT    NOT NULL,
    runner_id    TEXT    NOT NULL,
    worker_group TEXT    NOT NULL,
    hostname     TEXT    NOT NULL,
    last_seen    INTEGER NOT NULL,
    PRIMARY KEY (account, runner_id)
) STRICT;
