-- A task's objects (its task object, a few kilobytes) move out of the task
-- row into a table written once, when the task is queued. A task row is
-- updated three or more times in its life (claimed, reported, done); with
-- the objects in it, a row filled a page, so each of those updates wrote a
-- whole page of objects that had not changed to the WAL. Without them, a
-- page holds tens of task rows, and the tasks of one group commit share
-- pages. Keyed by the task's queue position (tasks.seq), so that rows
-- append in the order tasks are queued.
CREATE TABLE task_objects (
    seq     INTEGER PRIMARY KEY,
    objects BLOB    NOT NULL
) STRICT;

INSERT INTO task_objects (seq, objects) SELECT seq, objects FROM tasks;
ALTER TABLE tasks DROP COLUMN objects;
