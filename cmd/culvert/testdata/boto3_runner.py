"""A task runner written with boto3 drives a pipeline to FINISHED.

Usage: python3 boto3_runner.py ENDPOINT_URL

Run by TestBoto3TaskRunner in e2e_boto3_runner_test.go against a fresh
server whose only key is the development key. run_tasks is the whole
runner (poll, acknowledge, report), to show that any program speaking the
API can run culvert's pipelines; the rest sets up and checks. Exits 0 if
every check passes; otherwise prints each mismatch and exits 1.
"""

import datetime
import sys
import time

import boto3
import botocore.config

WORKER_GROUP = "wg-boto3-runner"
CHAIN = ["Extract", "Transform", "Load"]  # each dependsOn the one before
OCCURRENCES = 2
FAILURES = []


def check(cond, what, got=None):
    if not cond:
        msg = what if got is None else f"{what}\n    got: {got!r}"
        FAILURES.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def field(fields, key):
    vals = [f.get("stringValue", f.get("refValue")) for f in fields if f["key"] == key]
    return vals[0] if len(vals) == 1 else vals


def instances(client, pid):
    """Returns {instance id: @status} from query_objects and describe_objects."""
    ids = [i for p in client.get_paginator("query_objects").paginate(pipelineId=pid, sphere="INSTANCE")
           for i in p["ids"]]
    objs = [o for p in client.get_paginator("describe_objects").paginate(pipelineId=pid, objectIds=ids)
            for o in p["pipelineObjects"]] if ids else []
    return {o["id"]: field(o["fields"], "@status") for o in objs}


# ---- The task runner: about 30 lines. ----------------------------------
def run_tasks(client, pid, deadline):
    """Runs every task of WORKER_GROUP until all of pid's instances are
    FINISHED; returns the attempt ids in the order they were run."""
    ran = []
    while time.monotonic() < deadline:
        task = client.poll_for_task(workerGroup=WORKER_GROUP, hostname="boto3-runner").get("taskObject")
        if task is None:
            statuses = instances(client, pid)
            if statuses and all(s == "FINISHED" for s in statuses.values()):
                return ran
            continue
        if client.report_task_progress(taskId=task["taskId"])["canceled"]:
            continue  # told to stop: do not report a status
        attempt = task["objects"][task["attemptId"]]
        command = field(attempt["fields"], "command")
        print(f"running {task['attemptId']}: {command}")
        ran.append(task["attemptId"])
        client.set_task_status(taskId=task["taskId"], taskStatus="FINISHED")
    raise TimeoutError(f"instances not all FINISHED in time: {instances(client, pid)}")
# -------------------------------------------------------------------------


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    client = boto3.client(
        "datapipeline",
        endpoint_url=sys.argv[1],
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=30, connect_timeout=5),
    )
    pid = client.create_pipeline(name="boto3-runner", uniqueId="boto3-runner")["pipelineId"]

    # A short backfill: two hourly intervals, both in the past.
    now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    start = now - datetime.timedelta(hours=OCCURRENCES)
    starts = [(start + datetime.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S") for i in range(OCCURRENCES)]

    def s(k, v):
        return {"key": k, "stringValue": v}

    objects = [
        {"id": "Default", "name": "Default", "fields": [
            s("scheduleType", "cron"), s("failureAndRerunMode", "none"),
            s("role", "DataPipelineDefaultRole"), s("resourceRole", "DataPipelineDefaultResourceRole"),
            s("pipelineLogUri", "s3://example-bucket/logs/"), {"key": "schedule", "refValue": "Hourly"},
        ]},
        {"id": "Hourly", "name": "Hourly", "fields": [
            s("type", "Schedule"), s("period", "1 hour"), s("startDateTime", starts[0]),
            s("occurrences", str(OCCURRENCES)),
        ]},
    ]
    for i, name in enumerate(CHAIN):
        fields = [s("type", "ShellCommandActivity"), s("workerGroup", WORKER_GROUP),
                  s("command", f"echo {name.lower()} #{{format(@scheduledStartTime,'YYYY-MM-dd HH')}}")]
        if i > 0:
            fields.append({"key": "dependsOn", "refValue": CHAIN[i - 1]})
        objects.append({"id": name, "name": name, "fields": fields})
    put = client.put_pipeline_definition(pipelineId=pid, pipelineObjects=objects)
    check(not put["errored"] and not put["validationErrors"], "put_pipeline_definition is clean", put)
    check(not put.get("validationWarnings"), "put_pipeline_definition has no warnings", put.get("validationWarnings"))
    client.activate_pipeline(pipelineId=pid)

    ran = run_tasks(client, pid, time.monotonic() + 30)

    # Every instance ran exactly once, each chain in dependsOn order.
    want = {f"@{name}_{st}_Attempt=1" for name in CHAIN for st in starts}
    check(sorted(ran) == sorted(want), "the runner ran each instance's first attempt exactly once", ran)
    for st in starts:
        pos = [ran.index(f"@{name}_{st}_Attempt=1") if f"@{name}_{st}_Attempt=1" in ran else -1 for name in CHAIN]
        check(-1 not in pos and pos == sorted(pos), f"tasks of interval {st} ran in dependsOn order {CHAIN}", pos)

    statuses = instances(client, pid)
    check(statuses == {f"@{name}_{st}": "FINISHED" for name in CHAIN for st in starts},
          "query_objects INSTANCE + describe_objects: every instance FINISHED", statuses)

    # Each finished instance ended no earlier than its dependency did.
    ids = [f"@{name}_{st}" for name in CHAIN for st in starts]
    objs = {o["id"]: o["fields"] for o in client.describe_objects(pipelineId=pid, objectIds=ids)["pipelineObjects"]}
    for st in starts:
        for up, down in zip(CHAIN, CHAIN[1:]):
            a, b = objs.get(f"@{up}_{st}", []), objs.get(f"@{down}_{st}", [])
            check(field(a, "@actualEndTime") and field(a, "@actualEndTime") <= field(b, "@actualEndTime"),
                  f"@{up}_{st} ended before @{down}_{st}", (field(a, "@actualEndTime"), field(b, "@actualEndTime")))
            check(field(b, "@attemptCount") == "1", f"@{down}_{st} @attemptCount", field(b, "@attemptCount"))

    # The attempt of the last task records the runner and its evaluated command.
    last = f"@Load_{starts[-1]}_Attempt=1"
    att = client.describe_objects(pipelineId=pid, objectIds=[last])["pipelineObjects"]
    check(len(att) == 1 and field(att[0]["fields"], "@status") == "FINISHED"
          and field(att[0]["fields"], "hostname") == "boto3-runner", f"{last} FINISHED by boto3-runner", att)

    # The pipeline is FINISHED (the scheduler may record it a moment after
    # the last instance).
    state = None
    for _ in range(250):
        desc = client.describe_pipelines(pipelineIds=[pid])["pipelineDescriptionList"][0]
        state = field(desc["fields"], "@pipelineState")
        if state == "FINISHED":
            break
        time.sleep(0.02)
    check(state == "FINISHED", "describe_pipelines @pipelineState", state)

    # Nothing is left for the worker group.
    check("taskObject" not in client.poll_for_task(workerGroup=WORKER_GROUP, hostname="boto3-runner"),
          "poll_for_task after the pipeline finished returns no task")

    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print(f"boto3 runner: ran {len(ran)} tasks in order {ran}; pipeline FINISHED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
