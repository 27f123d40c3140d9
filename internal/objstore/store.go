package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultRegion is the S3 region when neither [Config.Region] nor the SDK
// configuration names one: TaskRunner's --region default (spec §9.2).
const DefaultRegion = "us-east-1"

// Config configures a [Store]. The zero value is ready to use.
type Config struct {
	// Region is the S3 region. Empty means the SDK configuration's
	// (AWS_REGION, the profile's region), and [DefaultRegion] if it names
	// none.
	Region string
	// Concurrency bounds how many files [Store.Download] and
	// [Store.Upload] move at once (default 4).
	Concurrency int
	// PartSize is the size of each part of a multipart upload (default
	// 8 MiB; S3 accepts no less than 5 MiB). A body of unknown length can
	// be at most 10,000 parts.
	PartSize int64
	// MultipartThreshold is the body size from which [Store.Put] uploads
	// in parts rather than with one PutObject (default 16 MiB).
	MultipartThreshold int64
}

const (
	mib        = 1 << 20
	minPart    = 5 * mib
	failDetach = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.PartSize == 0 {
		c.PartSize = 8 * mib
	}
	if c.MultipartThreshold == 0 {
		c.MultipartThreshold = 16 * mib
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Concurrency < 1:
		return fmt.Errorf("objstore: Config.Concurrency is %d; it must be at least 1", c.Concurrency)
	case c.PartSize < minPart:
		return fmt.Errorf("objstore: Config.PartSize is %d; S3 needs parts of at least %d bytes", c.PartSize, minPart)
	case c.MultipartThreshold < 1:
		return fmt.Errorf("objstore: Config.MultipartThreshold is %d; it must be positive", c.MultipartThreshold)
	}
	return nil
}

// Store reads and writes objects named by URI: s3://bucket/key, an
// absolute local path, or file:///absolute/path. It is safe for concurrent
// use.
type Store struct {
	cfg Config
	s3  *s3.Client
	tm  *transfermanager.Client
}

// Load returns a Store whose S3 client is configured as the SDK's
// config.LoadDefaultConfig finds it: environment variables, the shared
// config and credentials files, the profile (AWS_PROFILE), and a custom
// endpoint from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the profile's
// endpoint_url. Credentials are resolved at the first S3 request, so a
// Store used only for local paths needs none. It returns an error if the
// configuration cannot be read (a named profile that does not exist, a
// malformed file) or cfg is invalid.
func Load(ctx context.Context, cfg Config) (*Store, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("objstore: load AWS configuration: %w", err)
	}
	return New(awsCfg, cfg)
}

// New returns a Store whose S3 client is built from awsCfg, with the same
// endpoint resolution as [Load] (awsCfg.BaseEndpoint, then the
// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL environment variables). It
// returns an error if cfg is invalid.
func New(awsCfg aws.Config, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Region != "" {
			o.Region = cfg.Region
		} else if o.Region == "" {
			o.Region = DefaultRegion
		}
		// The SDK has resolved BaseEndpoint from awsCfg and the
		// environment by the time options run. A custom endpoint is a
		// self-hosted server (MinIO, Ceph, SeaweedFS, a test fake):
		// those serve buckets under paths, seldom under host names,
		// and AWS itself still answers path-style requests.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = cfg.PartSize
		o.MultipartUploadThreshold = cfg.MultipartThreshold
		// transfermanager's own setting overrides the client's and
		// defaults to checksums on every upload; carry over what the
		// SDK configuration says (AWS_REQUEST_CHECKSUM_CALCULATION=
		// when_required is how users of older S3-compatible servers
		// turn them off).
		o.RequestChecksumCalculation = client.Options().RequestChecksumCalculation
		// Abort a failed multipart upload even when ctx was cancelled,
		// or its parts stay stored (and billed) until a lifecycle rule
		// removes them.
		o.FailTimeout = failDetach
	})
	return &Store{cfg: cfg, s3: client, tm: tm}, nil
}

// Info describes an object.
type Info struct {
	URI     string    // as the caller wrote the scheme: s3://, file:// or a bare path
	Size    int64     // in bytes
	ModTime time.Time // S3's LastModified, or the file's modification time
}

// object is a listed object with its parsed location.
type object struct {
	loc  location
	size int64
	mod  time.Time
}

func (o object) info() Info { return Info{URI: o.loc.String(), Size: o.size, ModTime: o.mod} }

// Get opens the object at uri for reading; the caller closes it. A missing
// object (or, for a local path, a directory) is an error satisfying
// errors.Is(err, fs.ErrNotExist). Other errors: [ErrInvalidURI] for a URI
// culvert cannot use, [*S3Error] for S3's other refusals, and the
// operating system's for local files.
func (s *Store) Get(ctx context.Context, uri string) (io.ReadCloser, error) {
	l, err := parse(uri)
	if err == nil {
		err = l.object()
	}
	if err != nil {
		return nil, err
	}
	return s.get(ctx, l)
}

func (s *Store) get(ctx context.Context, l location) (io.ReadCloser, error) {
	if !l.s3 {
		return getLocal(l)
	}
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(l.key)})
	if err != nil {
		return nil, s3Error("GetObject", l, err)
	}
	return out.Body, nil
}

// Put stores everything r yields as the object at uri, replacing any
// object there. It streams: on S3 a body from [Config.MultipartThreshold]
// bytes up goes as a multipart upload, holding a few parts in memory; a
// local file is written beside its destination and renamed into place,
// creating missing directories, so that no reader sees half of it. It
// returns [ErrInvalidURI] for a URI culvert cannot use, [*S3Error] when S3
// refuses, and otherwise the error of reading r or writing the file.
func (s *Store) Put(ctx context.Context, uri string, r io.Reader) error {
	l, err := parse(uri)
	if err == nil {
		err = l.object()
	}
	if err != nil {
		return err
	}
	return s.put(ctx, l, r)
}

func (s *Store) put(ctx context.Context, l location, r io.Reader) error {
	if !l.s3 {
		return putLocal(l, r)
	}
	// transfermanager measures a Seeker to size its parts and fails on
	// one that cannot seek (a pipe); such a body is read as a stream.
	if sk, ok := r.(io.Seeker); ok {
		if _, err := sk.Seek(0, io.SeekCurrent); err != nil {
			r = struct{ io.Reader }{r}
		}
	}
	_, err := s.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(l.bucket), Key: aws.String(l.key), Body: r,
	})
	if err != nil {
		return s3Error("PutObject", l, err)
	}
	return nil
}

// Stat describes the object at uri. Errors are as for [Store.Get]; on S3
// a missing object's error has no AWS error code, since HeadObject's
// answer has no body.
func (s *Store) Stat(ctx context.Context, uri string) (Info, error) {
	l, err := parse(uri)
	if err == nil {
		err = l.object()
	}
	if err != nil {
		return Info{}, err
	}
	if !l.s3 {
		o, err := statLocal(l)
		return o.info(), err
	}
	out, err := s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(l.key)})
	if err != nil {
		return Info{}, s3Error("HeadObject", l, err)
	}
	return Info{URI: l.String(), Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Exists reports whether an object is at uri, as the S3KeyExists
// precondition asks (spec §3.3). A directory is not an object. It returns
// an error only when the answer is unknown: [ErrInvalidURI], an
// [*S3Error] other than not-found (a 403 among them), or a local error
// other than not-found.
func (s *Store) Exists(ctx context.Context, uri string) (bool, error) {
	_, err := s.Stat(ctx, uri)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// List returns every object whose URI begins with prefixURI, across all
// pages, in S3's order (by key, bytewise). The prefix is a string prefix,
// as S3 takes it: s3://b/logs/2024- lists s3://b/logs/2024-01.csv, and
// s3://b/in lists both s3://b/in/x and s3://b/input.csv. Locally the same
// holds for paths, and only regular files (or links to them) are listed;
// on S3, keys ending in "/" (folders made in the S3 console) are not
// listed either. Nothing under the prefix is an empty list, not an error.
// It returns [ErrInvalidURI] for a URI culvert cannot use, [*S3Error] when
// S3 refuses (NoSuchBucket among them), and local errors other than a
// missing directory.
func (s *Store) List(ctx context.Context, prefixURI string) ([]Info, error) {
	l, err := parse(prefixURI)
	if err != nil {
		return nil, err
	}
	var objs []object
	err = s.walk(ctx, l, func(o object) error {
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !l.s3 {
		// A directory walk goes name by name, and "a-b" sorts before
		// "a/b" only when whole paths are compared.
		slices.SortFunc(objs, func(a, b object) int { return strings.Compare(a.loc.key, b.loc.key) })
	}
	infos := make([]Info, len(objs))
	for i, o := range objs {
		infos[i] = o.info()
	}
	return infos, nil
}

// errStop ends a walk early.
var errStop = errors.New("stop")

// PrefixNotEmpty reports whether [Store.List] would list anything under
// prefixURI, as the S3PrefixNotEmpty precondition asks (spec §3.3),
// stopping at the first object. Errors are as for [Store.List].
func (s *Store) PrefixNotEmpty(ctx context.Context, prefixURI string) (bool, error) {
	l, err := parse(prefixURI)
	if err != nil {
		return false, err
	}
	found := false
	err = s.walk(ctx, l, func(object) error {
		found = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	return found, nil
}

// walk calls fn with each object under the prefix l, as [Store.List]
// describes, until fn returns an error, which walk returns.
func (s *Store) walk(ctx context.Context, l location, fn func(object) error) error {
	if !l.s3 {
		return walkLocal(ctx, l, fn)
	}
	pages := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(l.key)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s3Error("ListObjectsV2", l, err)
		}
		for _, c := range page.Contents {
			key := aws.ToString(c.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			o := object{loc: location{s3: true, bucket: l.bucket, key: key}, size: aws.ToInt64(c.Size), mod: aws.ToTime(c.LastModified)}
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return nil
}
