-- A precondition instance's node (the instance it checks for), and the
-- actions an instance fired (see pipeline.Instance.Events), as a JSON
-- array of strings.
ALTER TABLE instances ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN events TEXT NOT NULL DEFAULT '[]';

-- Alarms fired and not yet delivered, one row per delivery sink, queued
-- in the same transaction as the run step that fired them.
CREATE TABLE alarms (
    seq         INTEGER PRIMARY KEY,
    sink        TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    pipeline_id TEXT    NOT NULL,
    action_id   TEXT    NOT NULL,
    instance_id TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    topic_arn   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    tries       INTEGER NOT NULL,
    next_try    INTEGER NOT NULL,
    last_error  TEXT    NOT NULL
) STRICT;
