package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// The attempt's log files, in its log directory.
const (
	StdoutLog = "stdout.log"
	StderrLog = "stderr.log"
)

// stderrTail is how much of the end of stderr a failure's errorMessage
// carries.
const stderrTail = 1024

// Shell runs ShellCommandActivity and ShellCommandPrecondition tasks (spec
// §3.3): command through /bin/sh -c with the scriptArgument values as $1…$n,
// or the script scriptUri names (S3 or local). Each command runs in
// WorkDir, in a process group of its own so that cancelling it reaches
// every process it started. stdout and stderr go to files in the attempt's
// log directory, and are copied to the stdout and stderr URIs when the
// task names them.
//
// With stage true (§9.4) each input S3DataNode is downloaded into a
// directory of its own, exported to the command as INPUTn_STAGING_DIR in
// input order, and each output gets an empty OUTPUTn_STAGING_DIR, uploaded
// to the output's directoryPath (or filePath) when the command succeeds.
// The shell expands ${INPUT1_STAGING_DIR}, which the service leaves as
// written.
//
// Exit status 0 is FINISHED. Any other status is FAILED with errorId
// ShellCommandFailed and the end of stderr in errorMessage, or, for a
// precondition, FALSE: not met yet.
type Shell struct {
	// KillGrace is how long a canceled command has between SIGTERM and
	// SIGKILL to its process group; zero means 5 seconds.
	KillGrace time.Duration
}

// Execute implements [Executor].
func (s *Shell) Execute(ctx context.Context, job *Job) error {
	t := job.Task
	a := t.Attempt()
	command, scriptURI, err := oneOf(t, "command", "scriptUri")
	if err != nil {
		return err
	}
	hasScript := scriptURI != ""
	args := a.Strings("scriptArgument")
	if hasScript && len(args) > 0 {
		return failf("InvalidTaskObject", "%s sets scriptArgument with scriptUri; scriptArgument can only be used with command", t.ComponentID())
	}
	stage, err := a.Bool("stage", false)
	if err != nil {
		return failf("InvalidTaskObject", "%v", err)
	}
	var st *staging
	if stage {
		var te *TaskError
		if st, te = planStaging(t, filepath.Join(job.ScratchDir, "staging")); te != nil {
			return te
		}
	}

	// The stdout and stderr paths are claimed before anything runs: a
	// command whose output cannot be kept should not run at all.
	stdoutURI, _ := a.String("stdout")
	stderrURI, _ := a.String("stderr")
	for _, u := range []string{stdoutURI, stderrURI} {
		if u == "" {
			continue
		}
		if err := job.Files.Put(ctx, u, strings.NewReader("")); err != nil {
			return failf("OutputUnavailable", "cannot write %s: %v", u, err)
		}
	}

	var argv []string
	if hasScript {
		path := filepath.Join(job.ScratchDir, "script")
		if err := job.Files.DownloadFile(ctx, scriptURI, path); err != nil {
			return failf("ScriptUnavailable", "scriptUri %s: %v", scriptURI, err)
		}
		if argv, err = scriptArgv(path); err != nil {
			return failf("ScriptUnavailable", "scriptUri %s: %v", scriptURI, err)
		}
	} else {
		argv = append([]string{"/bin/sh", "-c", command, "sh"}, args...)
	}
	if st != nil {
		if err := st.stageIn(ctx, job); err != nil {
			return err
		}
	}

	stdoutPath, stderrPath := filepath.Join(job.LogDir, StdoutLog), filepath.Join(job.LogDir, StderrLog)
	stdout, err := os.Create(stdoutPath)
	if err != nil {
		return fmt.Errorf("stdout log: %w", err)
	}
	defer stdout.Close()
	stderr, err := os.Create(stderrPath)
	if err != nil {
		return fmt.Errorf("stderr log: %w", err)
	}
	defer stderr.Close()

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = job.WorkDir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if st != nil {
		cmd.Env = append(os.Environ(), st.env()...)
	}
	newProcessGroup(cmd)
	job.Logger.Info("runner: starting command", "argv", argv, "dir", cmd.Dir)
	runErr := s.run(ctx, cmd)
	stdout.Close()
	stderr.Close()
	if runErr == nil {
		job.Logger.Info("runner: command exited", "status", cmd.ProcessState.String())
	} else {
		job.Logger.Info("runner: command ended", "err", runErr)
	}

	// Copy the output even when the task was canceled: it is what the
	// user will look at to see how far it got.
	copyCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var copyErr error
	for _, c := range []struct{ uri, path string }{{stdoutURI, stdoutPath}, {stderrURI, stderrPath}} {
		if c.uri != "" {
			if err := job.Files.UploadFile(copyCtx, c.path, c.uri); err != nil {
				copyErr = errors.Join(copyErr, fmt.Errorf("%s: %w", c.uri, err))
			}
		}
	}

	details := fmt.Sprintf("command: %q\nworking directory: %s\nstdout: %s\nstderr: %s", argv, cmd.Dir, stdoutPath, stderrPath)
	var startErr *startError
	switch {
	case ctx.Err() != nil && runErr != nil:
		return ctx.Err()
	case errors.As(runErr, &startErr):
		return &TaskError{ID: "ShellCommandFailed", Message: startErr.Error(), StackTrace: details}
	case runErr == nil && copyErr != nil:
		return &TaskError{ID: "OutputUnavailable", Message: fmt.Sprintf("the command finished, but its output could not be copied: %v", copyErr), StackTrace: details}
	case runErr == nil && st != nil:
		// Outputs are pushed only when the command succeeded: a failed
		// command's partial output is not data anyone should consume.
		return st.stageOut(ctx, job)
	case runErr == nil:
		return nil
	}
	var exitErr *exec.ExitError
	if !errors.As(runErr, &exitErr) {
		return fmt.Errorf("running %q: %w", argv, runErr)
	}
	msg := "command " + exitErr.ProcessState.String()
	if tail := tailOf(stderrPath, stderrTail); tail != "" {
		msg += "; stderr ends:\n" + tail
	} else {
		msg += " with nothing on stderr"
	}
	if t.Type() == "ShellCommandPrecondition" {
		return &TaskError{Status: StatusFalse, ID: "PreconditionNotMet", Message: msg, StackTrace: details}
	}
	return &TaskError{ID: "ShellCommandFailed", Message: msg, StackTrace: details}
}

// startError is a command that could not be started.
type startError struct{ err error }

func (e *startError) Error() string { return "cannot start the command: " + e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// run runs cmd until it exits or ctx ends. Then it sends SIGTERM to the
// command's process group, and SIGKILL once the command has exited or
// KillGrace has passed, so that no process of the group outlives the task.
func (s *Shell) run(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return &startError{err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := s.KillGrace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	signalGroup(cmd.Process, syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		signalGroup(cmd.Process, syscall.SIGKILL)
		err = <-done
	}
	// Children that ignored SIGTERM, or outlived their shell.
	signalGroup(cmd.Process, syscall.SIGKILL)
	return err
}

// scriptArgv returns how to run the script at path: through the
// interpreter its #! line names, else through /bin/sh. The runner reads the
// #! line itself, as the kernel would, so a script runs even where the
// scratch directory is mounted noexec.
func scriptArgv(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return nil, err
	}
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return []string{"/bin/sh", path}, nil
	}
	// Like the kernel: the interpreter, then the rest of the line as at
	// most one argument.
	interp, arg, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if interp == "" {
		return nil, errors.New("its #! line names no interpreter")
	}
	argv := []string{interp}
	if arg = strings.TrimSpace(arg); arg != "" {
		argv = append(argv, arg)
	}
	return append(argv, path), nil
}

// tailOf returns up to the last n bytes of the file at path as text,
// starting at a character boundary, without trailing white space; "" if
// the file is empty or unreadable.
func tailOf(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-n, 0)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return ""
	}
	if off > 0 {
		// Skip the rest of a character cut in half.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
			b = b[1:]
		}
	}
	return strings.TrimRight(strings.ToValidUTF8(string(b), "\uFFFD"), " \t\r\n")
}
