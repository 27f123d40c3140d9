"""End-to-end check of culvert with boto3's datapipeline client.

Usage: python3 boto3_e2e.py ENDPOINT_URL

Run by TestBoto3 in e2e_boto3_test.go against a fresh server whose only key
is the development key. Exits 0 if every check passes; otherwise prints
each mismatch and exits 1.
"""

import datetime
import sys
import time

import boto3
import botocore.config

FAILURES = []


def check(cond, what, got=None, want=None):
    if not cond:
        msg = what
        if got is not None or want is not None:
            msg += f"\n    got:  {got!r}\n    want: {want!r}"
        FAILURES.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def eq(got, want, what):
    check(got == want, what, got, want)


def expect_error(fn, exc_class, what, **kwargs):
    """Calls fn(**kwargs) and checks it raises the modelled exception."""
    try:
        fn(**kwargs)
    except exc_class:
        return
    except Exception as e:  # noqa: BLE001 - report whatever came instead
        check(False, f"{what}: raised {type(e).__name__}: {e}, want {exc_class.__name__}")
        return
    check(False, f"{what}: no error, want {exc_class.__name__}")


def fields_of(fields, key):
    return [f.get("stringValue", f.get("refValue")) for f in fields if f["key"] == key]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint = sys.argv[1]
    client = boto3.client(
        "datapipeline",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=botocore.config.Config(
            retries={"total_max_attempts": 1},
            read_timeout=30,
            connect_timeout=5,
        ),
    )
    exc = client.exceptions

    # create_pipeline is idempotent on name and uniqueId.
    first = client.create_pipeline(
        name="boto3-e2e", uniqueId="boto3-token", description="driven by boto3",
        tags=[{"key": "env", "value": "test"}],
    )["pipelineId"]
    again = client.create_pipeline(name="boto3-e2e", uniqueId="boto3-token")["pipelineId"]
    eq(again, first, "create_pipeline twice with the same name and uniqueId")
    pid = first

    objects = [
        {"id": "Default", "name": "Default", "fields": [
            {"key": "scheduleType", "stringValue": "ondemand"},
            {"key": "role", "stringValue": "DataPipelineDefaultRole"},
            {"key": "resourceRole", "stringValue": "DataPipelineDefaultResourceRole"},
        ]},
        {"id": "Ec2", "name": "Worker", "fields": [
            {"key": "type", "stringValue": "Ec2Resource"},
            {"key": "securityGroups", "stringValue": "default"},
            {"key": "securityGroups", "stringValue": "ssh-only"},
        ]},
        {"id": "Input", "name": "Input", "fields": [
            {"key": "type", "stringValue": "S3DataNode"},
            {"key": "directoryPath", "stringValue": "#{myInputPath}"},
        ]},
        {"id": "Output", "name": "Output", "fields": [
            {"key": "type", "stringValue": "S3DataNode"},
            {"key": "directoryPath", "stringValue": "s3://example-bucket/out/"},
        ]},
        {"id": "Copy", "name": "Copy \u2013 \u00fcnicode \"quoted\"", "fields": [
            {"key": "type", "stringValue": "CopyActivity"},
            {"key": "runsOn", "refValue": "Ec2"},
            {"key": "input", "refValue": "Input"},
            {"key": "output", "refValue": "Output"},
        ]},
    ]
    parameter_objects = [{"id": "myInputPath", "attributes": [
        {"key": "type", "stringValue": "AWS::S3::ObjectKey"},
        {"key": "default", "stringValue": "s3://example-bucket/in/"},
    ]}]
    parameter_values = [{"id": "myInputPath", "stringValue": "s3://example-bucket/today/"}]

    put = client.put_pipeline_definition(
        pipelineId=pid, pipelineObjects=objects,
        parameterObjects=parameter_objects, parameterValues=parameter_values,
    )
    eq(put["errored"], False, "put_pipeline_definition errored")
    eq(put["validationErrors"], [], "put_pipeline_definition validationErrors")

    got = client.get_pipeline_definition(pipelineId=pid)
    eq(got["pipelineObjects"], objects, "get_pipeline_definition pipelineObjects")
    eq(got["parameterObjects"], parameter_objects, "get_pipeline_definition parameterObjects")
    eq(got["parameterValues"], parameter_values, "get_pipeline_definition parameterValues")

    # Validation: clean, then a reference to an object that does not exist.
    v = client.validate_pipeline_definition(pipelineId=pid, pipelineObjects=objects,
                                            parameterObjects=parameter_objects)
    eq(v["errored"], False, "validate_pipeline_definition of a clean definition")
    # The documented warnings: no pipelineLogUri, and a resource without
    # terminateAfter. They never make a definition errored.
    warned = {w["id"]: " ".join(w["warnings"]) for w in v["validationWarnings"]}
    check("pipelineLogUri" in warned.get("Default", ""), "validate_pipeline_definition warns of a missing pipelineLogUri", warned)
    check("terminateAfter" in warned.get("Ec2", ""), "validate_pipeline_definition warns of a missing terminateAfter", warned)
    broken = objects[:4] + [{"id": "Copy", "name": "Copy", "fields": [
        {"key": "type", "stringValue": "CopyActivity"},
        {"key": "runsOn", "refValue": "NoSuchResource"},
    ]}]
    v = client.validate_pipeline_definition(pipelineId=pid, pipelineObjects=broken,
                                            parameterObjects=parameter_objects)
    eq(v["errored"], True, "validate_pipeline_definition with a missing reference: errored")
    eq([e["id"] for e in v["validationErrors"]], ["Copy"], "validate_pipeline_definition: ids with errors")
    check(any("NoSuchResource" in m for e in v["validationErrors"] for m in e["errors"]),
          "validate_pipeline_definition: an error names NoSuchResource", v["validationErrors"])

    desc = client.describe_pipelines(pipelineIds=[pid])["pipelineDescriptionList"]
    eq(len(desc), 1, "describe_pipelines count")
    eq(desc[0]["name"], "boto3-e2e", "describe_pipelines name")
    eq(desc[0].get("description"), "driven by boto3", "describe_pipelines description")
    eq(fields_of(desc[0]["fields"], "@pipelineState"), ["PENDING"], "describe_pipelines @pipelineState")
    eq(desc[0]["tags"], [{"key": "env", "value": "test"}], "describe_pipelines tags")

    # The list_pipelines paginator follows markers over 30 pipelines (2 pages).
    made = [pid] + [
        client.create_pipeline(name=f"filler-{i:02d}", uniqueId=f"filler-{i:02d}")["pipelineId"]
        for i in range(29)
    ]
    pages = list(client.get_paginator("list_pipelines").paginate())
    eq([len(p["pipelineIdList"]) for p in pages], [25, 5], "list_pipelines paginator page sizes")
    eq([e["id"] for p in pages for e in p["pipelineIdList"]], made, "list_pipelines paginator ids")

    ids = ["Copy", "Missing", "Ec2", "Default"]
    described = [o for p in client.get_paginator("describe_objects").paginate(pipelineId=pid, objectIds=ids)
                 for o in p["pipelineObjects"]]
    eq([o["id"] for o in described], ["Copy", "Ec2", "Default"], "describe_objects paginator ids")
    ec2 = described[1]
    eq(fields_of(ec2["fields"], "securityGroups"), ["default", "ssh-only"], "describe_objects list-valued field")
    eq(fields_of(ec2["fields"], "parent"), ["Default"], "describe_objects implicit parent")
    eq(fields_of(ec2["fields"], "@status"), ["PENDING"], "describe_objects @status")

    pages = list(client.get_paginator("query_objects").paginate(
        pipelineId=pid, sphere="COMPONENT", PaginationConfig={"PageSize": 2}))
    eq([p["ids"] for p in pages], [["Default", "Ec2"], ["Input", "Output"], ["Copy"]], "query_objects paginator pages")
    q = client.query_objects(pipelineId=pid, sphere="COMPONENT", query={"selectors": [
        {"fieldName": "type", "operator": {"type": "EQ", "values": ["S3DataNode"]}}]})
    eq(q["ids"], ["Input", "Output"], "query_objects with an EQ selector")

    client.activate_pipeline(
        pipelineId=pid, startTimestamp=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        parameterValues=[{"id": "myInputPath", "stringValue": "s3://example-bucket/backfill/"}],
    )
    desc = client.describe_pipelines(pipelineIds=[pid])["pipelineDescriptionList"][0]
    eq(fields_of(desc["fields"], "@pipelineState"), ["SCHEDULED"], "@pipelineState after activate_pipeline")
    active = client.get_pipeline_definition(pipelineId=pid, version="active")
    eq(active["parameterValues"], [{"id": "myInputPath", "stringValue": "s3://example-bucket/backfill/"}],
       "active definition's parameterValues")

    client.set_status(pipelineId=pid, objectIds=["Copy"], status="PAUSE")
    copy = client.describe_objects(pipelineId=pid, objectIds=["Copy"])["pipelineObjects"][0]
    eq(fields_of(copy["fields"], "@status"), ["PAUSED"], "@status after set_status PAUSE")
    client.set_status(pipelineId=pid, objectIds=["Copy"], status="RESUME")

    ev = client.evaluate_expression(pipelineId=pid, objectId="Copy", expression="plain text, no expressions")
    eq(ev["evaluatedExpression"], "plain text, no expressions", "evaluate_expression of plain text")
    # Expressions: parameters (activation's value won over the put one),
    # references through fields, functions, and a runtime field that a
    # component does not have.
    for obj, expression, want in [
        ("Input", "#{directoryPath}", "s3://example-bucket/backfill/"),
        ("Copy", "#{input.directoryPath}part-#{1 + 2}", "s3://example-bucket/backfill/part-3"),
        ("Copy", "#{format(plusDays(makeDate(2026,1,31),1),'YYYY-MM-dd')}", "2026-02-01"),
    ]:
        ev = client.evaluate_expression(pipelineId=pid, objectId=obj, expression=expression)
        eq(ev["evaluatedExpression"], want, f"evaluate_expression {expression!r} on {obj}")
    try:
        client.evaluate_expression(pipelineId=pid, objectId="Copy", expression="#{format(@scheduledStartTime,'YYYY')}")
        check(False, "evaluate_expression of a runtime field on a component raised nothing")
    except exc.InvalidRequestException as e:
        check("@scheduledStartTime" in str(e), "evaluate_expression of a runtime field names it", str(e))
    evaluated = client.describe_objects(pipelineId=pid, objectIds=["Input"], evaluateExpressions=True)["pipelineObjects"][0]
    eq(fields_of(evaluated["fields"], "directoryPath"), ["s3://example-bucket/backfill/"],
       "describe_objects evaluateExpressions directoryPath")
    raw = client.describe_objects(pipelineId=pid, objectIds=["Input"])["pipelineObjects"][0]
    eq(fields_of(raw["fields"], "directoryPath"), ["#{myInputPath}"], "describe_objects directoryPath as written")

    client.deactivate_pipeline(pipelineId=pid, cancelActive=True)
    # The scheduler finishes the deactivation: DEACTIVATING, then INACTIVE.
    for _ in range(500):
        desc = client.describe_pipelines(pipelineIds=[pid])["pipelineDescriptionList"][0]
        if fields_of(desc["fields"], "@pipelineState") == ["INACTIVE"]:
            break
        time.sleep(0.02)
    eq(fields_of(desc["fields"], "@pipelineState"), ["INACTIVE"], "@pipelineState after deactivate_pipeline")

    client.add_tags(pipelineId=pid, tags=[{"key": "team", "value": "data"}, {"key": "env", "value": "prod"}])
    client.remove_tags(pipelineId=pid, tagKeys=["team"])
    desc = client.describe_pipelines(pipelineIds=[pid])["pipelineDescriptionList"][0]
    eq(desc["tags"], [{"key": "env", "value": "prod"}], "tags after add_tags and remove_tags")

    # Task-runner calls: no scheduler yet, so the poll comes back empty.
    poll = client.poll_for_task(workerGroup="wg-boto3", hostname="runner.example.com")
    check("taskObject" not in poll, "poll_for_task on an empty queue returns no taskObject", poll)
    hb = client.report_task_runner_heartbeat(taskrunnerId="runner-1", workerGroup="wg-boto3")
    eq(hb["terminate"], False, "report_task_runner_heartbeat terminate")
    expect_error(client.report_task_progress, exc.TaskNotFoundException,
                 "report_task_progress of an unknown task", taskId="no-such-task")
    expect_error(client.set_task_status, exc.TaskNotFoundException,
                 "set_task_status of an unknown task", taskId="no-such-task", taskStatus="FINISHED")

    expect_error(client.describe_pipelines, exc.PipelineNotFoundException,
                 "describe_pipelines of an unknown id", pipelineIds=["df-0000000000000000000"])
    expect_error(client.get_pipeline_definition, exc.InvalidRequestException,
                 "get_pipeline_definition with a bad version", pipelineId=pid, version="previous")

    client.delete_pipeline(pipelineId=pid)
    expect_error(client.describe_pipelines, exc.PipelineDeletedException,
                 "describe_pipelines after delete_pipeline", pipelineIds=[pid])
    remaining = [e["id"] for p in client.get_paginator("list_pipelines").paginate() for e in p["pipelineIdList"]]
    eq(remaining, made[1:], "list_pipelines after delete_pipeline")

    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print("boto3 e2e: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
