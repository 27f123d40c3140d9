-- Where an attempt's runner put its logs (@logLocation): on the task, the
-- last location its progress reports named, which a running attempt
-- shows; on the attempt, what the scheduler copied from its task when the
-- task ended. '' until a runner names one.
ALTER TABLE tasks ADD COLUMN log_location TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN log_location TEXT NOT NULL DEFAULT '';
