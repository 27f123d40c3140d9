package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/culvert/culvert/internal/pipeline"
)

// errInvalid reports that validate found errors; main exits 1 for it, as
// a compiler does, rather than 2 for a usage problem.
var errInvalid = errors.New("the definition has errors")

const definitionUsage = `Usage:
  culvert definition to-api FILE    definition file (objects/parameters/values) → API JSON
  culvert definition to-file FILE   API JSON (pipelineObjects/…, e.g. a GetPipelineDefinition response) → definition file
FILE may be - for standard input. Output goes to standard output.
`

// definitionCommand converts between the aws CLI's definition-file format
// and the API's objects, exactly as the CLI translates them.
type definitionCommand struct{ main *Main }

func (c *definitionCommand) Run(args []string) error {
	if len(args) != 2 || (args[0] != "to-api" && args[0] != "to-file") {
		fmt.Fprint(c.main.Stderr, definitionUsage)
		return flag.ErrHelp
	}
	in, err := openInput(args[1])
	if err != nil {
		return err
	}
	defer in.Close()
	if args[0] == "to-api" {
		def, err := pipeline.ParseFile(in)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(c.main.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(def)
	}
	var def pipeline.Definition
	if err := json.NewDecoder(in).Decode(&def); err != nil {
		return fmt.Errorf("%s: not API definition JSON: %w", args[1], err)
	}
	return pipeline.FormatFile(c.main.Stdout, &def)
}

func openInput(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(name)
}

// validateCommand validates definition files offline, with no server,
// and prints each problem as FILE: OBJECT: MESSAGE.
type validateCommand struct{ main *Main }

func (c *validateCommand) Run(args []string) error {
	fs := flag.NewFlagSet("culvert validate", flag.ContinueOnError)
	fs.SetOutput(c.main.Stderr)
	maxObjects := fs.Int("max-objects", pipeline.DefaultLimits.MaxObjects, "most objects in one pipeline definition")
	fs.Usage = func() {
		fmt.Fprintln(c.main.Stderr, "Usage: culvert validate [--max-objects N] FILE...\n\nValidates definition files (the aws CLI's format) without a server.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	invalid := false
	for _, name := range fs.Args() {
		in, err := openInput(name)
		if err != nil {
			return err
		}
		def, err := pipeline.ParseFile(in)
		in.Close()
		if err != nil {
			fmt.Fprintf(c.main.Stdout, "%s: %v\n", name, err)
			invalid = true
			continue
		}
		res := pipeline.Validate(def, pipeline.Options{Limits: pipeline.Limits{MaxObjects: *maxObjects}, Now: time.Now()})
		for _, e := range res.Errors {
			for _, msg := range e.Errors {
				fmt.Fprintf(c.main.Stdout, "%s: %s: error: %s\n", name, e.ID, msg)
			}
		}
		for _, w := range res.Warnings {
			for _, msg := range w.Warnings {
				fmt.Fprintf(c.main.Stdout, "%s: %s: warning: %s\n", name, w.ID, msg)
			}
		}
		invalid = invalid || res.Errored()
	}
	if invalid {
		return errInvalid
	}
	return nil
}
