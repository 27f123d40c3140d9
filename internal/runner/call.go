package runner

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// The default backoff between tries of a failed call: doubling from a
// quarter second up to half a minute, so a runner picks work up again
// soon after the service comes back, without hammering it meanwhile.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 30 * time.Second
)

// DefaultBackoff is the wait before try n+1 of a call (n from 1): an
// exponential backoff with jitter, between half and all of
// min(250ms·2ⁿ⁻¹, 30s), so runners that failed together do not retry
// together.
func DefaultBackoff(n int) time.Duration {
	d := min(backoffBase<<min(max(n-1, 0), 20), backoffMax)
	return d/2 + rand.N(d/2+1)
}

// retryables is the SDK's own judgement of which errors a retry may mend:
// connection failures, HTTP 5xx, throttling codes. The SDK client itself
// never retries (NewClient turns its retryer off), so that retries follow
// the runner's contexts: forever while the runner runs, not at all once
// it stops.
var retryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// retryable reports whether a try that failed with err may succeed if
// tried again: what the SDK judges so, and Data Pipeline's
// InternalServiceError whatever its HTTP status. The caller has checked
// that its own context is alive, so a deadline here is the try's timeout.
func retryable(err error) bool {
	var internal *types.InternalServiceError
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &internal) {
		return true
	}
	return retryables.IsErrorRetryable(err) == aws.TrueTernary
}

// taskGone reports whether err says the task is no longer the caller's:
// its lease was lost or it was withdrawn, or its pipeline is gone.
func taskGone(err error) bool {
	var notFound *types.TaskNotFoundException
	var pipelineNotFound *types.PipelineNotFoundException
	var deleted *types.PipelineDeletedException
	return errors.As(err, &notFound) || errors.As(err, &pipelineNotFound) || errors.As(err, &deleted)
}

// call runs try until it succeeds, fails with an error that retrying
// cannot mend, or ctx ends, waiting Backoff between tries. Each try gets
// its own timeout. It returns nil, try's last error, or ctx's error.
func (r *Runner) call(ctx context.Context, op string, timeout time.Duration, try func(context.Context) error) error {
	for n := 1; ; n++ {
		tctx, cancel := context.WithTimeout(ctx, timeout)
		err := try(tctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !retryable(err):
			return err
		}
		wait := r.cfg.Backoff(n)
		r.cfg.Logger.Warn("runner: call failed; retrying", "op", op, "try", n, "retry_in", wait, "err", err)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
