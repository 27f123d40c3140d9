package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/measure"
)

// taskAPI is the part of the API a runner of the throughput phase calls.
// Each method returns the call's error, or for PollForTask an empty id
// when the poll ended without a task.
type taskAPI interface {
	poll(ctx context.Context, workerGroup, hostname string) (taskID, attemptID string, err error)
	progress(ctx context.Context, taskID string) (canceled bool, err error)
	finish(ctx context.Context, taskID string) error
}

// sdkRunner calls through aws-sdk-go-v2, as culvert's own runner does.
type sdkRunner struct{ c *datapipeline.Client }

func (r sdkRunner) poll(ctx context.Context, wg, host string) (string, string, error) {
	out, err := r.c.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(wg), Hostname: aws.String(host)})
	if err != nil || out.TaskObject == nil {
		return "", "", err
	}
	return aws.ToString(out.TaskObject.TaskId), aws.ToString(out.TaskObject.AttemptId), nil
}

func (r sdkRunner) progress(ctx context.Context, id string) (bool, error) {
	out, err := r.c.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String(id)})
	if err != nil {
		return false, err
	}
	return out.Canceled, nil
}

func (r sdkRunner) finish(ctx context.Context, id string) error {
	_, err := r.c.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: aws.String(id), TaskStatus: types.TaskStatusFinished})
	return err
}

// leanRunner speaks the same protocol with net/http, encoding/json and the
// SDK's SigV4 signer, and none of the SDK's middleware stack: what a small
// runner written for the API costs. The server does the same work for
// either client; on a machine whose cores the client shares, a lighter
// client leaves more of them to the server. It decodes the whole task
// object, as a runner must to do the task.
type leanRunner struct {
	endpoint, region string
	hc               *http.Client
	signer           *v4.Signer
	creds            aws.Credentials
}

func newLeanRunner(cfg *config, endpoint string) *leanRunner {
	base := http.DefaultTransport.(*http.Transport).Clone()
	conns := 2 * max(cfg.Pollers, cfg.WakePollers+1)
	base.MaxIdleConns, base.MaxIdleConnsPerHost = 2*conns, conns
	base.ForceAttemptHTTP2 = false
	return &leanRunner{
		endpoint: endpoint, region: cfg.Region,
		hc:     &http.Client{Transport: base, Timeout: cfg.Timeout},
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: measure.DevAccessKey, SecretAccessKey: measure.DevSecretKey},
	}
}

// apiError is an AWS JSON 1.1 error reply.
type apiError struct {
	Status  int
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
}

// call sends one signed request for op and decodes the reply into out.
func (r *leanRunner) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "DataPipeline."+op)
	sum := sha256.Sum256(body)
	if err := r.signer.SignHTTP(ctx, r.creds, req, hex.EncodeToString(sum[:]), "datapipeline", r.region, time.Now()); err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &apiError{Status: resp.StatusCode}
		if err := json.Unmarshal(b, e); err != nil {
			e.Message = string(b)
		}
		return e
	}
	return json.Unmarshal(b, out)
}

type leanField struct {
	Key         string `json:"key"`
	StringValue string `json:"stringValue"`
	RefValue    string `json:"refValue"`
}

type leanTask struct {
	TaskObject *struct {
		TaskID     string `json:"taskId"`
		PipelineID string `json:"pipelineId"`
		AttemptID  string `json:"attemptId"`
		Objects    map[string]struct {
			ID     string      `json:"id"`
			Name   string      `json:"name"`
			Fields []leanField `json:"fields"`
		} `json:"objects"`
	} `json:"taskObject"`
}

func (r *leanRunner) poll(ctx context.Context, wg, host string) (string, string, error) {
	var out leanTask
	err := r.call(ctx, "PollForTask", map[string]string{"workerGroup": wg, "hostname": host}, &out)
	if err != nil || out.TaskObject == nil {
		return "", "", err
	}
	if _, ok := out.TaskObject.Objects[out.TaskObject.AttemptID]; !ok {
		return "", "", fmt.Errorf("task %s: the task object lacks its attempt %s", out.TaskObject.TaskID, out.TaskObject.AttemptID)
	}
	return out.TaskObject.TaskID, out.TaskObject.AttemptID, nil
}

func (r *leanRunner) progress(ctx context.Context, id string) (bool, error) {
	var out struct {
		Canceled bool `json:"canceled"`
	}
	err := r.call(ctx, "ReportTaskProgress", map[string]string{"taskId": id}, &out)
	return out.Canceled, err
}

func (r *leanRunner) finish(ctx context.Context, id string) error {
	var out struct{}
	return r.call(ctx, "SetTaskStatus", map[string]string{"taskId": id, "taskStatus": "FINISHED"}, &out)
}
