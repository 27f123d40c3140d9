package alarm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/culvert/culvert/internal/store"
)

// Webhook posts each alarm as JSON to a URL (see [WebhookPayload]). A 2xx
// answer delivers it; 408, 429 and 5xx answers and network errors are
// retried; any other answer refuses it for good.
type Webhook struct {
	URL    string
	Client *http.Client // default http.DefaultClient
}

// WebhookPayload is the body a [Webhook] posts. Seq identifies the alarm:
// a receiver that sees a Seq twice is seeing a redelivery.
type WebhookPayload struct {
	Seq        int64  `json:"seq"`
	PipelineID string `json:"pipelineId"`
	ActionID   string `json:"actionId"`
	InstanceID string `json:"node"`
	Event      string `json:"event"`
	TopicArn   string `json:"topicArn"`
	Subject    string `json:"subject"`
	Message    string `json:"message"`
	FiredAt    string `json:"firedAt"` // RFC 3339, UTC
}

// Name implements [Sink].
func (w *Webhook) Name() string { return "webhook" }

// Deliver implements [Sink].
func (w *Webhook) Deliver(ctx context.Context, a *store.Alarm) error {
	body, err := json.Marshal(WebhookPayload{
		Seq: a.Seq, PipelineID: a.PipelineID, ActionID: a.ActionID, InstanceID: a.InstanceID, Event: a.Event,
		TopicArn: a.TopicArn, Subject: a.Subject, Message: a.Message, FiredAt: a.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
	})
	if err != nil {
		return &PermanentError{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "culvert-alarm")
	req.Header.Set("X-Culvert-Alarm-Seq", strconv.FormatInt(a.Seq, 10))
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("webhook answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	default:
		return &PermanentError{fmt.Errorf("webhook answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))}
	}
}

// SNS publishes each alarm to its topicArn through an aws-sdk-go-v2 SNS
// client, with its subject (when not empty) and message. The region is
// the topic's, from its ARN. Throttling, server faults and network errors
// are retried; any other error the service returns refuses the alarm for
// good.
type SNS struct {
	// Config is the SDK configuration (credentials, and the endpoint
	// when BaseEndpoint is not set).
	Config aws.Config
	// BaseEndpoint is the SNS-compatible endpoint; empty for the SDK's
	// own resolution (AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL, or AWS).
	BaseEndpoint string

	mu      sync.Mutex
	clients map[string]*sns.Client // by region
}

// client returns the SNS client of a region, made once.
func (s *SNS) client(region string) *sns.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	c := sns.NewFromConfig(s.Config, func(o *sns.Options) {
		o.Region = region
		o.RetryMaxAttempts = 1 // the dispatcher retries, with the alarm's state stored
		if s.BaseEndpoint != "" {
			o.BaseEndpoint = aws.String(s.BaseEndpoint)
		}
	})
	if s.clients == nil {
		s.clients = map[string]*sns.Client{}
	}
	s.clients[region] = c
	return c
}

// Name implements [Sink].
func (s *SNS) Name() string { return "sns" }

// throttled are the error codes SNS and its look-alikes use for "slow down".
var throttled = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestLimitExceeded": true, "KMSThrottling": true,
}

// Deliver implements [Sink].
func (s *SNS) Deliver(ctx context.Context, a *store.Alarm) error {
	arn := strings.Split(a.TopicArn, ":")
	if len(arn) != 6 || arn[0] != "arn" || arn[2] != "sns" || arn[3] == "" {
		return &PermanentError{fmt.Errorf("topicArn %q is not an SNS topic ARN", a.TopicArn)}
	}
	in := &sns.PublishInput{TopicArn: aws.String(a.TopicArn), Message: aws.String(a.Message)}
	if a.Subject != "" {
		in.Subject = aws.String(a.Subject)
	}
	_, err := s.client(arn[3]).Publish(ctx, in)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient && !throttled[ae.ErrorCode()] {
		return &PermanentError{err}
	}
	return err
}
