// Command culvert is a self-hostable AWS Data Pipeline: the API server
// (with its embedded runner), the task runner and a client CLI, in one
// binary.
//
// Usage:
//
//	culvert serve [--listen HOST:PORT] [--data DIR] [--database-url URL] [--credentials FILE] ...
//	culvert migrate --database-url URL
//	culvert runner --endpoint URL --worker-group NAME [--tasks N] [--log-dir DIR] ...
//	culvert create NAME [--unique-id ID] [--description TEXT] [--tag KEY=VALUE ...]
//	culvert put-definition PIPELINE_ID FILE
//	culvert activate PIPELINE_ID [--start-time TIME] [--parameter-value ID=VALUE ...]
//	culvert deactivate PIPELINE_ID [--cancel-active=false]
//	culvert list
//	culvert runs PIPELINE_ID [--status S] [--start-interval A,B] [--schedule-interval A,B] [--watch]
//	culvert logs PIPELINE_ID ATTEMPT_ID [--stderr | --file NAME | --list]
//	culvert definition to-api|to-file FILE
//	culvert validate FILE...
//	culvert version
//
// Every flag can also come from an environment variable named CULVERT_ and
// the flag name in upper case with dashes as underscores (CULVERT_LISTEN,
// CULVERT_DATA, …); a flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errInvalid) {
			os.Exit(1)
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "culvert:", err)
		}
		os.Exit(2)
	}
}

// Main is the program, separated from main so tests can run it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	// Ready, if set, is called with the API's base URL once serve accepts
	// requests. Tests use it to find a server started on port 0.
	Ready func(baseURL string)
}

const usage = `culvert is a self-hostable AWS Data Pipeline.

Usage:
  culvert serve [flags]               run the API server (culvert serve -h lists the flags)
  culvert migrate --database-url URL  bring a PostgreSQL database's schema up to date (serve does too)
  culvert runner [flags]              run a task runner for a worker group (culvert runner -h lists the flags)
  culvert create NAME [flags]         create a pipeline and print its id
  culvert put-definition ID FILE      put a definition file on a pipeline and print its validation
  culvert activate ID [flags]         activate a pipeline
  culvert deactivate ID [flags]       deactivate a pipeline
  culvert list [flags]                list the pipelines with their state and health
  culvert runs ID [flags]             list a pipeline's runs, as aws datapipeline list-runs; --watch follows them
  culvert logs ID ATTEMPT_ID [flags]  print an attempt's stdout (--stderr, --file NAME, --list for the others)
                                      (client commands take --endpoint, --region, --profile and --json; -h lists their flags)
  culvert definition to-api FILE      convert a definition file to API objects
  culvert definition to-file FILE     convert API objects to a definition file
  culvert validate FILE...            validate definition files offline
  culvert version                     print the version
`

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return (&serveCommand{main: m}).Run(ctx, args[1:])
	case "runner":
		return (&runnerCommand{main: m}).Run(ctx, args[1:])
	case "migrate":
		return (&migrateCommand{main: m}).Run(ctx, args[1:])
	case "create", "put-definition", "activate", "deactivate", "list", "runs":
		return (&clientCommand{main: m, verb: args[0]}).Run(ctx, args[1:])
	case "logs":
		return (&logsCommand{main: m}).Run(ctx, args[1:])
	case "definition":
		return (&definitionCommand{main: m}).Run(args[1:])
	case "validate":
		return (&validateCommand{main: m}).Run(args[1:])
	case "version":
		fmt.Fprintln(m.Stdout, "culvert", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// applyEnv sets every flag not given on the command line from its CULVERT_
// environment variable, so the command line always wins.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "CULVERT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", name, serr)
			}
		}
	})
	return err
}
