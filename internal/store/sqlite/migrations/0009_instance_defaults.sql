-- Instances get defaults for every field that is empty until something
-- happens to them, so that the many inserted as planned (a backfill
-- creates hundreds of thousands) bind 11 values instead of 24. SQLite
-- cannot add a default to a column, so the table is rebuilt, same columns
-- in the same order.
CREATE TABLE instances_new (
    pipeline_id         TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    component_id        TEXT    NOT NULL,
    type                TEXT    NOT NULL,
    n                   INTEGER NOT NULL,
    version             INTEGER NOT NULL,
    scheduled_start     INTEGER NOT NULL,
    scheduled_end       INTEGER NOT NULL,
    eligible            INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    actual_start        INTEGER NOT NULL DEFAULT 0,
    actual_end          INTEGER NOT NULL DEFAULT 0,
    attempt_count       INTEGER NOT NULL DEFAULT 0,
    tries_left          INTEGER NOT NULL,
    head_attempt        TEXT    NOT NULL DEFAULT '',
    resource            TEXT    NOT NULL DEFAULT '',
    error_id            TEXT    NOT NULL DEFAULT '',
    error_message       TEXT    NOT NULL DEFAULT '',
    error_stack         TEXT    NOT NULL DEFAULT '',
    cascade_failed_on   TEXT    NOT NULL DEFAULT '',
    cancellation_reason TEXT    NOT NULL DEFAULT '',
    late_actions_fired  INTEGER NOT NULL DEFAULT 0,
    node                TEXT    NOT NULL DEFAULT '',
    events              TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (pipeline_id, id)
) STRICT, WITHOUT ROWID;
INSERT INTO instances_new SELECT * FROM instances;
DROP TABLE instances;
ALTER TABLE instances_new RENAME TO instances;
