// Package objstore reads and writes the files a pipeline definition names
// by URI, so that culvert's task runner need not care where they live:
// S3 objects (s3://bucket/key: S3DataNode filePath and directoryPath,
// ShellCommandActivity scriptUri, stdout and stderr, pipelineLogUri) and
// local files (an absolute path or file:///absolute/path). AWS took only
// S3 in most of these places; culvert also takes local paths because
// self-hosted users have disks.
//
// A [Store] gives one API over both: [Store.Get], [Store.Put],
// [Store.Stat], [Store.List] and the helpers the runner's S3KeyExists and
// S3PrefixNotEmpty preconditions need ([Store.Exists],
// [Store.PrefixNotEmpty]), plus directory staging for ShellCommandActivity
// with stage true ([Store.Download], [Store.Upload]). S3 is reached through
// aws-sdk-go-v2 with the SDK's standard configuration (environment,
// shared config and credentials files, profiles, AWS_ENDPOINT_URL_S3),
// addressing buckets by path whenever a custom endpoint is configured, as
// self-hosted S3 servers need. Large bodies go up as multipart uploads
// through the SDK's transfermanager.
//
// A missing object is an error that satisfies errors.Is(err,
// fs.ErrNotExist), on S3 as on disk; an error answer from S3 is an
// [*S3Error] whose message reads like AWS Data Pipeline's (spec §9.4). The
// choices the spec leaves open are in
// docs/assumptions/0018-object-storage.md.
//
// [Store.OpenIn] and [Store.ListIn] read the files under one directory
// by relative name and never anything outside it, symbolic links
// included: culvert serve reads attempts' logs with them, at the
// @logLocation their runners reported. Otherwise objstore is the
// runner's; the server imports it for nothing else. Its tests
// use the real SDK over HTTP against the in-process S3 in
// internal/objstore/s3test and real temporary directories.
package objstore
