package runner

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// staging is the data staged for a ShellCommandActivity with stage true
// (spec §9.4): each input S3DataNode downloaded into a directory of its
// own, exported as INPUTn_STAGING_DIR in input order, and an empty
// directory per output, OUTPUTn_STAGING_DIR, uploaded when the command
// succeeds.
type staging struct {
	inputs, outputs []stagedNode
}

type stagedNode struct {
	node s3Node
	dir  string
}

// planStaging checks a staged task's data nodes and chooses their
// directories under root, before anything is transferred or run. Every
// input and output must be an S3DataNode (spec §3.3: staging "only works
// … if your data inputs and outputs are S3DataNode objects"): anything
// else fails, rather than leave its variable unset, where a command such
// as rm -rf ${OUTPUT1_STAGING_DIR}/* would do harm.
func planStaging(t *Task, root string) (*staging, *TaskError) {
	if err := CheckDataNodes(t); err != nil {
		return nil, err
	}
	a := t.Attempt()
	st := &staging{}
	for _, side := range []struct {
		key    string
		prefix string
		to     *[]stagedNode
	}{{"input", "input", &st.inputs}, {"output", "output", &st.outputs}} {
		nodes, err := t.FollowAll(a, side.key)
		if err != nil {
			return nil, failf("InvalidTaskObject", "%v", err)
		}
		for i, o := range nodes {
			if !isS3Node(o) {
				return nil, failf("StagingUnsupported",
					"%s has stage true, and its %s %d is %s %s; culvert stages S3DataNode inputs and outputs only (as AWS does). "+
						"Set stage to false, or copy the data to an S3DataNode with a CopyActivity first", t.ComponentID(), side.key, i+1, o.Type(), o.ID)
			}
			n, te := readS3Node(o, side.key == "input")
			if te != nil {
				return nil, te
			}
			*side.to = append(*side.to, stagedNode{node: n, dir: filepath.Join(root, side.prefix+strconv.Itoa(i+1))})
		}
	}
	return st, nil
}

// env returns the staging variables for the command's environment.
func (st *staging) env() []string {
	var env []string
	for i, s := range st.inputs {
		env = append(env, fmt.Sprintf("INPUT%d_STAGING_DIR=%s", i+1, s.dir))
	}
	for i, s := range st.outputs {
		env = append(env, fmt.Sprintf("OUTPUT%d_STAGING_DIR=%s", i+1, s.dir))
	}
	return env
}

// stageIn downloads the inputs and makes the output directories. Errors
// are StagingFailed (or InvalidTaskObject for a URI culvert cannot use)
// [*TaskError]s naming the node, or ctx's error.
func (st *staging) stageIn(ctx context.Context, job *Job) error {
	for _, s := range st.outputs {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return fmt.Errorf("staging directory: %w", err)
		}
	}
	for i, s := range st.inputs {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return fmt.Errorf("staging directory: %w", err)
		}
		n, err := stageInput(ctx, job.Files, s)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return failf(s3ErrorID(err, "StagingFailed"), "staging input %d, %s: %v", i+1, s.node, err)
		}
		job.Logger.Info("runner: staged input", "n", i+1, "node", s.node.obj.ID, "from", s.node.String(), "dir", s.dir, "files", n)
	}
	return nil
}

// stageInput downloads one input node into its directory and returns how
// many files it holds: a filePath object under its own name, a
// directoryPath's objects under their names below it, or a manifest's
// entries under their own names.
func stageInput(ctx context.Context, files Files, s stagedNode) (int, error) {
	n := s.node
	switch {
	case n.manifestFilePath != "":
		entries, err := readManifest(ctx, files, n.manifestFilePath)
		if err != nil {
			return 0, err
		}
		seen := map[string]string{}
		count := 0
		for _, e := range entries {
			name := baseName(e.uri)
			if prev, dup := seen[name]; dup {
				return 0, fmt.Errorf("manifest %s lists %s and %s, which would be staged under the same name %q", n.manifestFilePath, prev, e.uri, name)
			}
			seen[name] = e.uri
			err := files.DownloadFile(ctx, e.uri, filepath.Join(s.dir, name))
			switch {
			case err != nil && e.optional && isNotExist(err):
				continue
			case err != nil:
				return 0, err
			}
			count++
		}
		return count, nil
	case n.filePath != "":
		if err := files.DownloadFile(ctx, n.filePath, filepath.Join(s.dir, baseName(n.filePath))); err != nil {
			return 0, err
		}
		return 1, nil
	}
	if err := files.Download(ctx, dirURI(n.directoryPath), s.dir); err != nil {
		return 0, err
	}
	return countFiles(s.dir)
}

// stageOut uploads each output directory to its node: to directoryPath as
// a tree, or, for a filePath, the one file the directory must hold. When
// the node has a manifestFilePath, a manifest listing what was uploaded is
// written there. Errors are as for stageIn.
func (st *staging) stageOut(ctx context.Context, job *Job) error {
	for i, s := range st.outputs {
		uris, err := stageOutput(ctx, job.Files, s)
		if err == nil && s.node.manifestFilePath != "" {
			err = writeManifest(ctx, job.Files, s.node.manifestFilePath, uris)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return failf(s3ErrorID(err, "StagingFailed"), "uploading output %d to %s: %v", i+1, s.node, err)
		}
		job.Logger.Info("runner: uploaded output", "n", i+1, "node", s.node.obj.ID, "to", s.node.String(), "files", len(uris))
	}
	return nil
}

// stageOutput uploads one output directory and returns the URIs written.
func stageOutput(ctx context.Context, files Files, s stagedNode) ([]string, error) {
	rels, err := listFiles(s.dir)
	if err != nil {
		return nil, err
	}
	if fp := s.node.filePath; fp != "" {
		if len(rels) != 1 {
			return nil, fmt.Errorf("the output has filePath %s, so OUTPUT staging directory must hold exactly one file; it holds %d %q", fp, len(rels), rels)
		}
		if err := files.UploadFile(ctx, filepath.Join(s.dir, filepath.FromSlash(rels[0])), fp); err != nil {
			return nil, err
		}
		return []string{fp}, nil
	}
	base := dirURI(s.node.directoryPath)
	if err := files.Upload(ctx, s.dir, base); err != nil {
		return nil, err
	}
	uris := make([]string, len(rels))
	for i, rel := range rels {
		uris[i] = base + rel
	}
	return uris, nil
}

// listFiles returns the regular files under dir (and links to them), as
// slash-separated paths relative to it, in lexical order: what Upload
// sends.
func listFiles(dir string) ([]string, error) {
	var rels []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // a dangling link or a special file: not uploaded
			}
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	return rels, err
}

func countFiles(dir string) (int, error) {
	rels, err := listFiles(dir)
	return len(rels), err
}
