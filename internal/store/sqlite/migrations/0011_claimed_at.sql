-- When a runner claimed the task: the attempt's start, which the
-- scheduler needs even when it first hears of the task once it is done
-- (a claim and a completion in one pass). Tasks claimed before this
-- column existed take their last update, the nearest time known.
ALTER TABLE tasks ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET claimed_at = updated_at WHERE status <> 'QUEUED';
