-- What the scheduler needs from the last activation and deactivation:
-- the startTimestamp to skip intervals before, and whether deactivating
-- cancels what is running.
ALTER TABLE pipelines ADD COLUMN activation_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipelines ADD COLUMN cancel_active INTEGER NOT NULL DEFAULT 0;
-- A task's lease after each progress report: the attempt's
-- reportProgressTimeout, in nanoseconds; 0 for the server's default.
ALTER TABLE tasks ADD COLUMN progress_timeout INTEGER NOT NULL DEFAULT 0;
