package runner

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"

	"github.com/culvert/culvert/internal/dataformat"
)

// Copy runs CopyActivity tasks (spec §3.3): it copies the records of its
// one input data node to its one output, each an S3DataNode (S3 or local
// files in a data format, perhaps gzip-compressed) or a SqlDataNode or
// MySqlDataNode (a table). S3 to SQL, SQL to S3, S3 to S3 (reformatting
// when the formats differ) and SQL to SQL all work.
//
// Nothing partial is left behind when a copy fails: rows go into the table
// in batches inside one transaction, rolled back on failure, and a file
// is stored whole or not at all. SQL NULL is written to files as an empty
// field, and an empty field is loaded into a table as NULL
// (docs/assumptions/0021-activities.md).
//
// A failed copy is FAILED with errorId InvalidTaskObject (the nodes do
// not say what to copy), InvalidDatabase, ConnectionFailed,
// InputUnavailable (the input cannot be read), OutputUnavailable (the
// output cannot be written), InvalidRecord (a record does not parse or
// fit the output format, named by file and number) or SqlStatementFailed
// (the database refused a query or a row).
type Copy struct {
	// BatchRows is how many rows one INSERT carries when the runner
	// writes the INSERT itself; zero means 500.
	BatchRows int
}

// record is one record in flight: a field is NULL when not Valid.
type record = []sql.NullString

// source yields the records of an input node.
type source interface {
	// next returns the next record, or io.EOF after the last one. Other
	// errors are [*TaskError]s or ctx's error.
	next(ctx context.Context) (record, error)
	// columns are the names of the fields, if known.
	columns() []string
	close()
}

// sink takes the records of an output node.
type sink interface {
	// write writes one record. Errors are [*TaskError]s or ctx's error.
	write(ctx context.Context, rec record) error
	// commit makes what was written visible. Errors as for write.
	commit(ctx context.Context) error
	// abort discards what was written; it is a no-op after commit.
	abort()
}

// Execute implements [Executor].
func (c Copy) Execute(ctx context.Context, job *Job) error {
	t := job.Task
	if te := CheckDataNodes(t); te != nil {
		return te
	}
	a := t.Attempt()
	ins, err := t.FollowAll(a, "input")
	if err != nil {
		return failf("InvalidTaskObject", "%v", err)
	}
	outs, err := t.FollowAll(a, "output")
	if err != nil {
		return failf("InvalidTaskObject", "%v", err)
	}
	if len(ins) != 1 || len(outs) != 1 {
		return failf("InvalidTaskObject", "%s copies one input to one output; it has %d inputs and %d outputs", t.ComponentID(), len(ins), len(outs))
	}
	in, out := ins[0], outs[0]
	for _, n := range []*Object{in, out} {
		if !isS3Node(n) && !isSQLNode(n) {
			return failf("InvalidTaskObject", "%s copies between S3DataNode, SqlDataNode and MySqlDataNode; %s is a %s", t.ComponentID(), n.ID, n.Type())
		}
	}

	var src source
	if isS3Node(in) {
		src, err = openS3Source(ctx, job, in)
	} else {
		src, err = openSQLSource(ctx, job, in)
	}
	if err != nil {
		return err
	}
	defer src.close()
	var dst sink
	if isS3Node(out) {
		dst, err = openS3Sink(ctx, job, out)
	} else {
		dst, err = openSQLSink(ctx, job, out, src.columns(), c.BatchRows)
	}
	if err != nil {
		return err
	}
	defer dst.abort()

	n := 0
	for {
		rec, err := src.next(ctx)
		if err == io.EOF {
			break
		}
		if err == nil {
			err = dst.write(ctx, rec)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			job.Logger.Info("runner: copy failed; nothing written", "records_read", n)
			return err
		}
		n++
	}
	if err := dst.commit(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	job.Logger.Info("runner: copied", "records", n, "from", in.ID, "to", out.ID)
	return nil
}

// s3Source reads the records of an S3DataNode's objects, one after the
// other.
type s3Source struct {
	job     *Job
	node    s3Node
	format  dataformat.Format
	objects []inputObject

	cur    int // index in objects of the open one
	rc     io.ReadCloser
	reader *dataformat.Reader
}

func openS3Source(ctx context.Context, job *Job, o *Object) (source, error) {
	n, te := readS3Node(o, true)
	if te != nil {
		return nil, te
	}
	f, te := dataFormat(job.Task, o)
	if te != nil {
		return nil, te
	}
	objs, err := n.inputObjects(ctx, job.Files)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failf(s3ErrorID(err, "InputUnavailable"), "input %s: %v", n, err)
	}
	job.Logger.Info("runner: reading input", "node", o.ID, "from", n.String(), "objects", len(objs), "format", f.Type, "compression", n.compression)
	return &s3Source{job: job, node: n, format: f, objects: objs, cur: -1}, nil
}

func (s *s3Source) columns() []string {
	if len(s.format.Columns) == 0 {
		return nil
	}
	names := make([]string, len(s.format.Columns))
	for i, c := range s.format.Columns {
		names[i] = c.Name
	}
	return names
}

func (s *s3Source) next(ctx context.Context) (record, error) {
	for {
		if s.reader == nil {
			if err := s.open(ctx); err != nil {
				return nil, err
			}
			if s.reader == nil {
				continue // an optional manifest entry that is missing
			}
		}
		fields, err := s.reader.Read()
		if err == io.EOF {
			s.closeCurrent()
			continue
		}
		if err != nil {
			uri := s.objects[s.cur].uri
			var netErr net.Error
			switch {
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case errors.As(err, &netErr):
				return nil, failf("InputUnavailable", "input %s: %s: %v", s.node, uri, err)
			}
			// What the data says, or corrupt compressed data.
			return nil, failf("InvalidRecord", "input %s: %s: %v", s.node, uri, err)
		}
		rec := make(record, len(fields))
		for i, f := range fields {
			// Files have no NULL: an empty field is one.
			rec[i] = sql.NullString{String: f, Valid: f != ""}
		}
		return rec, nil
	}
}

// open opens the next object, or returns io.EOF after the last one.
func (s *s3Source) open(ctx context.Context) error {
	if s.cur+1 >= len(s.objects) {
		return io.EOF
	}
	s.cur++
	obj := s.objects[s.cur]
	rc, err := s.node.openInput(ctx, s.job.Files, obj)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failf(s3ErrorID(err, "InputUnavailable"), "input %s: %v", s.node, err)
	}
	if rc == nil {
		s.job.Logger.Info("runner: optional manifest entry missing; skipped", "uri", obj.uri)
		return nil
	}
	r, err := s.format.NewReader(rc)
	if err != nil {
		rc.Close()
		return failf("InvalidTaskObject", "input %s: %v", s.node, err)
	}
	s.rc, s.reader = rc, r
	return nil
}

func (s *s3Source) closeCurrent() {
	if s.rc != nil {
		s.rc.Close()
	}
	s.rc, s.reader = nil, nil
}

func (s *s3Source) close() { s.closeCurrent() }

// s3Sink writes records to one object, streaming them to Files.Put
// through a pipe, so that the object is stored whole when commit closes
// the pipe, and not at all when abort breaks it.
type s3Sink struct {
	job    *Job
	node   s3Node
	uri    string
	pw     *io.PipeWriter
	comp   io.WriteCloser
	writer *dataformat.Writer
	fields []string
	n      int
	ended  bool

	done    chan error // Put's result, sent once
	putErr  error
	putDone bool
}

// errAborted breaks the pipe of an aborted copy.
var errAborted = errors.New("the copy was aborted")

// outputName is the object a copy writes under an output's
// directoryPath: part-00000 with the format's extension, and .gz when
// compressed. A fixed name makes a retry replace what an earlier try
// wrote.
func outputName(f dataformat.Format, compression string) string {
	name := "part-00000"
	switch f.Type {
	case dataformat.TypeCSV:
		name += ".csv"
	case dataformat.TypeTSV:
		name += ".tsv"
	default:
		name += ".txt"
	}
	if compression == dataformat.CompressionGzip {
		name += ".gz"
	}
	return name
}

func openS3Sink(ctx context.Context, job *Job, o *Object) (sink, error) {
	n, te := readS3Node(o, false)
	if te != nil {
		return nil, te
	}
	f, te := dataFormat(job.Task, o)
	if te != nil {
		return nil, te
	}
	uri := n.filePath
	if uri == "" {
		uri = dirURI(n.directoryPath) + outputName(f, n.compression)
	}
	pr, pw := io.Pipe()
	comp, err := dataformat.NewCompressor(pw, n.compression)
	if err != nil {
		return nil, failf("InvalidTaskObject", "output %s: %v", n, err)
	}
	w, err := f.NewWriter(comp)
	if err != nil {
		return nil, failf("InvalidTaskObject", "output %s: %v", n, err)
	}
	s := &s3Sink{job: job, node: n, uri: uri, pw: pw, comp: comp, writer: w, done: make(chan error, 1)}
	go func() {
		err := job.Files.Put(ctx, uri, pr)
		// Put's result is known before writes see the pipe break, so
		// that a failed write can tell a failed upload from a bad
		// record.
		s.done <- err
		pr.CloseWithError(cmpErr(err, io.ErrClosedPipe))
	}()
	job.Logger.Info("runner: writing output", "node", o.ID, "to", uri, "format", f.Type, "compression", n.compression)
	return s, nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

func (s *s3Sink) write(ctx context.Context, rec record) error {
	s.n++
	s.fields = s.fields[:0]
	for _, f := range rec {
		s.fields = append(s.fields, f.String) // NULL is ""
	}
	if err := s.writer.Write(s.fields); err != nil {
		var recErr *dataformat.RecordError
		if s.putEnded() == nil && errors.As(err, &recErr) && !errors.Is(err, io.ErrClosedPipe) {
			return failf("InvalidRecord", "output %s: record %d does not fit its data format: %v", s.node, s.n, recErr.Err)
		}
		return s.outputError(ctx, err)
	}
	return nil
}

// putEnded returns Put's error if Put has ended, without waiting.
func (s *s3Sink) putEnded() error {
	if !s.putDone {
		select {
		case s.putErr = <-s.done:
			s.putDone = true
		default:
		}
	}
	return s.putErr
}

// wait waits for Put to end and returns its error.
func (s *s3Sink) wait() error {
	if !s.putDone {
		s.putErr, s.putDone = <-s.done, true
	}
	return s.putErr
}

// outputError is the error of a failed write or commit: Put's, which
// says why the pipe broke, if it has one.
func (s *s3Sink) outputError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.abort()
	if s.putErr != nil {
		err = s.putErr
	}
	return failf(s3ErrorID(err, "OutputUnavailable"), "output %s: %v", s.node, err)
}

func (s *s3Sink) commit(ctx context.Context) error {
	err := s.writer.Flush()
	if err == nil {
		err = s.comp.Close()
	}
	if err != nil {
		return s.outputError(ctx, err)
	}
	s.ended = true
	s.pw.Close()
	if err := s.wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failf(s3ErrorID(err, "OutputUnavailable"), "output %s: %v", s.node, err)
	}
	if s.node.manifestFilePath != "" {
		if err := writeManifest(ctx, s.job.Files, s.node.manifestFilePath, []string{s.uri}); err != nil {
			return failf(s3ErrorID(err, "OutputUnavailable"), "output %s: %v", s.node, err)
		}
	}
	return nil
}

func (s *s3Sink) abort() {
	if s.ended {
		return
	}
	s.ended = true
	s.pw.CloseWithError(errAborted)
	s.wait()
}
