-- The health and run times of a pipeline's run (pipeline.RunSummary), as
-- JSON; empty until the scheduler stores one.
ALTER TABLE pipelines ADD COLUMN run_summary TEXT NOT NULL DEFAULT '';
