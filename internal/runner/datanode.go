package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/culvert/culvert/internal/dataformat"
	"github.com/culvert/culvert/internal/objstore"
	"github.com/culvert/culvert/internal/sqlconn"
)

// s3Node is an S3DataNode as the runner reads and writes it (spec §3.3
// "Data nodes"): one object (filePath) or the objects under a directory
// (directoryPath), optionally listed by a manifest, in a data format,
// perhaps compressed. Local paths work as well as S3 URIs.
type s3Node struct {
	obj              *Object
	filePath         string
	directoryPath    string
	manifestFilePath string
	compression      string
	input            bool // read: a manifest, when given, says what
}

// readS3Node reads an S3DataNode's location. It returns an
// InvalidTaskObject error for a node with neither filePath nor
// directoryPath (nor, for an input, a manifestFilePath), or with both.
func readS3Node(o *Object, input bool) (s3Node, *TaskError) {
	n := s3Node{obj: o, input: input}
	n.filePath, _ = o.String("filePath")
	n.directoryPath, _ = o.String("directoryPath")
	n.manifestFilePath, _ = o.String("manifestFilePath")
	n.compression, _ = o.String("compression")
	switch {
	case n.filePath != "" && n.directoryPath != "":
		return n, failf("InvalidTaskObject", "%s %s sets both filePath and directoryPath; it takes one", o.Type(), o.ID)
	case n.filePath == "" && n.directoryPath == "" && (!input || n.manifestFilePath == ""):
		return n, failf("InvalidTaskObject", "%s %s sets neither filePath nor directoryPath; it needs one", o.Type(), o.ID)
	}
	return n, nil
}

// String names the node and where its data is, for messages.
func (n s3Node) String() string {
	switch {
	case n.input && n.manifestFilePath != "":
	case n.filePath != "":
		return fmt.Sprintf("%s %s (%s)", n.obj.Type(), n.obj.ID, n.filePath)
	case n.directoryPath != "":
		return fmt.Sprintf("%s %s (%s)", n.obj.Type(), n.obj.ID, dirURI(n.directoryPath))
	}
	return fmt.Sprintf("%s %s (manifest %s)", n.obj.Type(), n.obj.ID, n.manifestFilePath)
}

// inputObject is one object an input node's data is in.
type inputObject struct {
	uri string
	// optional is set for a manifest entry that is not mandatory: a
	// missing object is skipped.
	optional bool
}

// inputObjects returns the objects an input node's data is in, in order:
// the manifest's entries when it names a manifest (Redshift's format,
// the one manifestFilePath means in AWS), else its filePath, else every
// object under its directoryPath in key order.
func (n s3Node) inputObjects(ctx context.Context, files Files) ([]inputObject, error) {
	switch {
	case n.manifestFilePath != "":
		return readManifest(ctx, files, n.manifestFilePath)
	case n.filePath != "":
		return []inputObject{{uri: n.filePath}}, nil
	}
	infos, err := files.List(ctx, dirURI(n.directoryPath))
	if err != nil {
		return nil, err
	}
	out := make([]inputObject, len(infos))
	for i, info := range infos {
		out[i] = inputObject{uri: info.URI}
	}
	return out, nil
}

// manifest is Amazon Redshift's manifest format, which an S3DataNode's
// manifestFilePath names: {"entries": [{"url": "s3://…", "mandatory":
// true}, …]}. Other members (meta) are ignored.
type manifest struct {
	Entries []manifestEntry `json:"entries"`
}

type manifestEntry struct {
	URL       string `json:"url"`
	Mandatory bool   `json:"mandatory"`
}

// maxManifest bounds the size of a manifest the runner reads.
const maxManifest = 16 << 20

// readManifest reads the manifest at uri. It returns an error if the
// manifest is missing, too large, not JSON of the manifest's shape, or
// has an entry without a url.
func readManifest(ctx context.Context, files Files, uri string) ([]inputObject, error) {
	rc, err := files.Get(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", uri, err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("manifest %s is larger than %d MiB", uri, maxManifest>>20)
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest %s is not a manifest ({\"entries\": [{\"url\": …, \"mandatory\": …}]}): %v", uri, err)
	}
	out := make([]inputObject, 0, len(m.Entries))
	for i, e := range m.Entries {
		if e.URL == "" {
			return nil, fmt.Errorf("manifest %s: entry %d has no url", uri, i+1)
		}
		out = append(out, inputObject{uri: e.URL, optional: !e.Mandatory})
	}
	return out, nil
}

// writeManifest writes a manifest listing uris, every entry mandatory.
func writeManifest(ctx context.Context, files Files, uri string, uris []string) error {
	m := manifest{Entries: make([]manifestEntry, len(uris))}
	for i, u := range uris {
		m.Entries[i] = manifestEntry{URL: u, Mandatory: true}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := files.Put(ctx, uri, bytes.NewReader(append(b, '\n'))); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// openInput opens one input object, decompressed as the node says. An
// optional object that is missing gives (nil, nil).
func (n s3Node) openInput(ctx context.Context, files Files, in inputObject) (io.ReadCloser, error) {
	rc, err := files.Get(ctx, in.uri)
	if in.optional && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d, err := dataformat.NewDecompressor(rc, n.compression)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%s: %w", in.uri, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{d, closers{d, rc}}, nil
}

// closers closes each in turn and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// dataFormat returns the data format a data node names, or CSV when it
// names none (CopyActivity's default: spec §3.3). It returns an
// InvalidTaskObject error if the format object is missing from the task
// object or invalid, and UnsupportedActivity for the DynamoDB formats.
func dataFormat(t *Task, node *Object) (dataformat.Format, *TaskError) {
	obj, err := t.Follow(node, "dataFormat")
	switch {
	case errors.Is(err, ErrNoField):
		f, _ := dataformat.Parse(map[string][]string{"type": {dataformat.TypeCSV}})
		return f, nil
	case err != nil:
		return dataformat.Format{}, failf("InvalidTaskObject", "%v", err)
	}
	f, err := dataformat.Parse(obj.FieldMap())
	switch {
	case errors.Is(err, dataformat.ErrUnsupported):
		return f, failf("UnsupportedActivity", "data format %s of %s: %v; AWS reads and writes it only through Hive on an Amazon EMR cluster", obj.ID, node.ID, err)
	case err != nil:
		return f, failf("InvalidTaskObject", "data format %s of %s: %v", obj.ID, node.ID, err)
	}
	return f, nil
}

// nodeDatabase returns the database a SqlDataNode or MySqlDataNode reads
// and writes: the object its database field names, or a MySqlDataNode's
// own connectionString, username and *password. Errors are
// InvalidDatabase [*TaskError]s whose messages never hold a password.
func nodeDatabase(t *Task, r sqlconn.Resolver, node *Object) (sqlconn.Database, *TaskError) {
	obj := node
	if db, err := t.Follow(node, "database"); err == nil {
		obj = db
	} else if !errors.Is(err, ErrNoField) {
		return sqlconn.Database{}, failf("InvalidTaskObject", "%v", err)
	} else if node.Type() != "MySqlDataNode" {
		return sqlconn.Database{}, failf("InvalidDatabase", "%s %s has no database; give it one (a JdbcDatabase, RdsDatabase or RedshiftDatabase)", node.Type(), node.ID)
	}
	d, err := r.FromObject(obj.FieldMap())
	if err != nil {
		return d, failf("InvalidDatabase", "database %s of %s: %v", obj.ID, node.ID, err)
	}
	return d, nil
}

// connect opens d, as a ConnectionFailed [*TaskError] if it cannot.
func connect(ctx context.Context, job *Job, d sqlconn.Database) (*openDB, error) {
	if ignored := d.Ignored(); len(ignored) > 0 {
		job.Logger.Warn("runner: JDBC properties culvert does not honour are ignored", "database", d, "properties", ignored)
	}
	db, err := d.Open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failf("ConnectionFailed", "%v", err)
	}
	job.Logger.Info("runner: connected", "database", d)
	return &openDB{DB: db, d: d}, nil
}

// isS3Node reports whether o is a data node whose data is files (S3 or
// local).
func isS3Node(o *Object) bool { return o.Type() == "S3DataNode" }

// isSQLNode reports whether o is a data node whose data is a SQL table.
func isSQLNode(o *Object) bool { return o.Type() == "SqlDataNode" || o.Type() == "MySqlDataNode" }

// s3ErrorID is the errorId of a failed transfer: InvalidTaskObject when
// the URI is one culvert cannot use (the definition is at fault), else
// what, such as StagingFailed.
func s3ErrorID(err error, what string) string {
	if errors.Is(err, objstore.ErrInvalidURI) {
		return "InvalidTaskObject"
	}
	return what
}
