// Command shell measures how fast real work runs through culvert: a
// pipeline of trivial ShellCommandActivity tasks (`true`) run by `culvert
// runner` processes, end to end, against the issue's target of 1,000
// tasks through 4 runners with 4 task slots each at ≥ 200 tasks/s. It also
// reports what a runner costs per task beyond the command it runs: the
// runner processes' own CPU, apart from their commands'.
//
// It wants a fresh server; bench/shell.sh starts one. The pipeline is a
// cron backfill: activities × intervals tasks, all in the past, each
// activity allowed maxActiveInstances at once, so that the runners always
// find work and the pipeline is FINISHED when the last task is.
//
// Usage:
//
//	shell --endpoint URL --culvert BIN [--server-pid PID] [--json FILE] [flags]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/culvert/culvert/internal/measure"
)

type config struct {
	Endpoint   string        `json:"endpoint"`
	Culvert    string        `json:"-"`
	ServerPID  int           `json:"-"`
	Runners    int           `json:"runners"`
	Slots      int           `json:"slots"`
	Activities int           `json:"activities"`
	Intervals  int           `json:"intervals"`
	MaxActive  int           `json:"max_active"`
	Target     float64       `json:"target_tasks_per_sec"`
	Timeout    time.Duration `json:"timeout"`
	JSONPath   string        `json:"-"`
	WorkDir    string        `json:"-"`
}

type result struct {
	Config       *config `json:"config"`
	NumCPU       int     `json:"num_cpu"`
	Tasks        int     `json:"tasks"`
	Seconds      float64 `json:"seconds"` // activation to the pipeline FINISHED
	TasksPerSec  float64 `json:"tasks_per_sec"`
	ServerCPU    float64 `json:"server_cpu_s"`
	RunnerCPU    float64 `json:"runner_cpu_s"`  // the runner processes themselves
	CommandCPU   float64 `json:"command_cpu_s"` // the commands they ran
	RunnerPerTsk float64 `json:"runner_cpu_us_per_task"`
	CommandPer   float64 `json:"command_cpu_us_per_task"`
	ServerPer    float64 `json:"server_cpu_us_per_task"`
	RunnerRSSKiB int64   `json:"runner_rss_kib"` // the largest runner's
	Pass         bool    `json:"pass"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("shell", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Endpoint, "endpoint", "", "`URL` of culvert (required)")
	fs.StringVar(&c.Culvert, "culvert", "", "the culvert `BINARY` to start runners from (required)")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "`PID` of the server, to report its CPU time")
	fs.IntVar(&c.Runners, "runners", 4, "culvert runner processes")
	fs.IntVar(&c.Slots, "slots", 4, "task slots of each runner (--tasks)")
	fs.IntVar(&c.Activities, "activities", 10, "activities in the pipeline")
	fs.IntVar(&c.Intervals, "intervals", 100, "15-minute intervals of each activity: activities × intervals tasks")
	fs.IntVar(&c.MaxActive, "max-active", 5, "maxActiveInstances of each activity")
	fs.Float64Var(&c.Target, "target", 200, "target tasks/s")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.StringVar(&c.JSONPath, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&c.WorkDir, "work-dir", "", "`DIR` for the runners' logs and working directories (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if c.Endpoint == "" || c.Culvert == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "shell: --endpoint and --culvert are required, and nothing else")
		return 2
	}
	// The runners run in directories of their own.
	bin, err := filepath.Abs(c.Culvert)
	if err != nil {
		fmt.Fprintln(stderr, "shell: --culvert:", err)
		return 2
	}
	c.Culvert = bin
	res, err := measureRun(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "shell:", err)
		return 1
	}
	printTable(stdout, res)
	if c.JSONPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(c.JSONPath, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "shell: --json:", err)
			return 1
		}
	}
	if !res.Pass {
		return 1
	}
	return 0
}

func str(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
func ref(k, v string) types.Field { return types.Field{Key: aws.String(k), RefValue: aws.String(v)} }
func object(id string, fields ...types.Field) types.PipelineObject {
	return types.PipelineObject{Id: aws.String(id), Name: aws.String(id), Fields: fields}
}

func measureRun(c *config, stderr io.Writer) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	client := measure.NewClient(c.Endpoint, "us-east-1", 4, time.Minute)
	wg := fmt.Sprintf("wg-shell-%x", time.Now().UnixNano()&0xffffff)
	start := time.Now().UTC().Truncate(15 * time.Minute).Add(-time.Duration(c.Intervals) * 15 * time.Minute)
	objs := []types.PipelineObject{
		object("Default", str("scheduleType", "cron"), ref("schedule", "Quarterly"), str("workerGroup", wg),
			str("maxActiveInstances", fmt.Sprint(c.MaxActive)),
			str("role", "DataPipelineDefaultRole"), str("resourceRole", "DataPipelineDefaultResourceRole")),
		object("Quarterly", str("type", "Schedule"), str("period", "15 minutes"),
			str("startDateTime", start.Format("2006-01-02T15:04:05")), str("occurrences", fmt.Sprint(c.Intervals))),
	}
	for i := range c.Activities {
		objs = append(objs, object(fmt.Sprintf("True%02d", i), str("type", "ShellCommandActivity"), str("command", "true")))
	}
	cr, err := client.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(wg), UniqueId: aws.String(wg)})
	if err != nil {
		return nil, fmt.Errorf("CreatePipeline: %w", err)
	}
	id := cr.PipelineId
	put, err := client.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: id, PipelineObjects: objs})
	if err != nil {
		return nil, fmt.Errorf("PutPipelineDefinition: %w", err)
	}
	if put.Errored {
		return nil, fmt.Errorf("the definition has errors: %+v", put.ValidationErrors)
	}

	work := c.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "culvert-bench-shell-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
	}
	if work, err = filepath.Abs(work); err != nil {
		return nil, err
	}
	var runners []*exec.Cmd
	defer func() {
		for _, r := range runners {
			r.Process.Signal(syscall.SIGTERM)
		}
		for _, r := range runners {
			r.Wait()
		}
	}()
	for i := range c.Runners {
		dir := filepath.Join(work, fmt.Sprintf("runner-%d", i))
		if err := os.MkdirAll(filepath.Join(dir, "work"), 0o755); err != nil {
			return nil, err
		}
		cmd := exec.Command(c.Culvert, "runner", "--endpoint", c.Endpoint, "--worker-group", wg,
			"--tasks", fmt.Sprint(c.Slots), "--runner-id", fmt.Sprintf("bench-%d", i), "--log-dir", filepath.Join(dir, "logs"))
		cmd.Dir = filepath.Join(dir, "work")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+measure.DevAccessKey, "AWS_SECRET_ACCESS_KEY="+measure.DevSecretKey,
			"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "TMPDIR="+filepath.Join(dir, "work"))
		log, err := os.Create(filepath.Join(dir, "runner.log"))
		if err != nil {
			return nil, err
		}
		defer log.Close()
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting a runner: %w", err)
		}
		runners = append(runners, cmd)
	}
	fmt.Fprintf(stderr, "[shell] %d runners × %d slots on %s; %d activities × %d intervals = %d tasks, %d ready at once\n",
		c.Runners, c.Slots, wg, c.Activities, c.Intervals, c.Activities*c.Intervals, c.Activities*c.MaxActive)

	cpu := func() (server, self, children time.Duration) {
		if c.ServerPID > 0 {
			server, _ = measure.ProcessCPU(c.ServerPID)
		}
		for _, r := range runners {
			s, ch, _ := measure.ProcessCPUs(r.Process.Pid)
			self, children = self+s, children+ch
		}
		return
	}
	srv0, self0, ch0 := cpu()
	t0 := time.Now()
	if _, err := client.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: id}); err != nil {
		return nil, fmt.Errorf("ActivatePipeline: %w", err)
	}
	// The pipeline is FINISHED when its last task is: polling its state
	// costs the server one small call a tick.
	for {
		d, err := client.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{*id}})
		if err != nil {
			return nil, fmt.Errorf("DescribePipelines: %w", err)
		}
		if state := fieldOf(d.PipelineDescriptionList[0].Fields, "@pipelineState"); state == "FINISHED" {
			break
		}
		for _, r := range runners {
			if r.ProcessState != nil {
				return nil, fmt.Errorf("a runner exited: %v", r.ProcessState)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(t0)
	srv1, self1, ch1 := cpu()

	finished, err := countFinished(ctx, client, *id)
	if err != nil {
		return nil, err
	}
	want := c.Activities * c.Intervals
	if finished != want {
		return nil, fmt.Errorf("%d instances FINISHED, want %d", finished, want)
	}
	res := &result{Config: c, NumCPU: runtime.NumCPU(), Tasks: finished, Seconds: elapsed.Seconds()}
	res.TasksPerSec = float64(finished) / elapsed.Seconds()
	res.ServerCPU, res.RunnerCPU, res.CommandCPU = (srv1 - srv0).Seconds(), (self1 - self0).Seconds(), (ch1 - ch0).Seconds()
	per := func(s float64) float64 { return s / float64(finished) * 1e6 }
	res.ServerPer, res.RunnerPerTsk, res.CommandPer = per(res.ServerCPU), per(res.RunnerCPU), per(res.CommandCPU)
	for _, r := range runners {
		if rss, _, err := measure.ProcessMemory(r.Process.Pid); err == nil {
			res.RunnerRSSKiB = max(res.RunnerRSSKiB, rss)
		}
	}
	res.Pass = res.TasksPerSec >= c.Target
	return res, nil
}

// countFinished counts the pipeline's instances whose @status is FINISHED.
func countFinished(ctx context.Context, c *datapipeline.Client, id string) (int, error) {
	n := 0
	in := &datapipeline.QueryObjectsInput{PipelineId: aws.String(id), Sphere: aws.String("INSTANCE"), Limit: aws.Int32(100),
		Query: &types.Query{Selectors: []types.Selector{{FieldName: aws.String("@status"),
			Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: []string{"FINISHED"}}}}}}
	for {
		out, err := c.QueryObjects(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("QueryObjects: %w", err)
		}
		n += len(out.Ids)
		if !out.HasMoreResults {
			return n, nil
		}
		in.Marker = out.Marker
	}
}

func fieldOf(fs []types.Field, key string) string {
	for _, f := range fs {
		if aws.ToString(f.Key) == key {
			return aws.ToString(f.StringValue)
		}
	}
	return ""
}

func printTable(w io.Writer, r *result) {
	c := r.Config
	fmt.Fprintf(w, "\n== culvert shell tasks end to end (%s; %d CPUs shared by server, runners and commands)\n", c.Endpoint, r.NumCPU)
	fmt.Fprintf(w, "   %d runners × %d slots, %d ShellCommandActivity tasks (true), %d ready at once\n",
		c.Runners, c.Slots, r.Tasks, c.Activities*c.MaxActive)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tasks\tseconds\ttasks/s\ttarget\t\tsrv CPU µs/task\trunner CPU µs/task\tcommand CPU µs/task\trunner RSS MiB\t")
	verdict := "FAIL"
	if r.Pass {
		verdict = "PASS"
	}
	fmt.Fprintf(tw, "%d\t%.2f\t%.0f\t≥ %.0f\t%s\t%.0f\t%.0f\t%.0f\t%.1f\t\n", r.Tasks, r.Seconds, r.TasksPerSec, c.Target, verdict,
		r.ServerPer, r.RunnerPerTsk, r.CommandPer, float64(r.RunnerRSSKiB)/1024)
	tw.Flush()
	fmt.Fprintln(w, strings.TrimSpace(`
   runner CPU is the runner processes' own (poll, report, fork/exec, logs): its overhead per task
   beyond the command, whose CPU (sh -c true) is the command column.`))
}
