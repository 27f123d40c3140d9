-- When a task's runner last reported progress (ReportTaskProgress), in
-- unix nanoseconds; 0 until it first does. The attempt's reportProgressTime.
ALTER TABLE tasks ADD COLUMN progressed_at INTEGER NOT NULL DEFAULT 0;
