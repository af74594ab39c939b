"""Two runs launched together queue: the repository's dagster.yaml lets one warehouse-writing run in at a time."""
from pathlib import Path

import yaml

import dagster as dg
from dagster._core.test_utils import create_test_daemon_workspace_context, instance_for_test
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

REPO = Path(__file__).resolve().parents[2]


def _instance_overrides() -> dict:
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    # The real queue and limits, with a launcher that records launches instead of starting processes.
    return {
        "run_coordinator": config["run_coordinator"],
        "concurrency": config["concurrency"],
        "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
    }


def _submit(instance, workspace, job_name: str) -> str:
    location = next(iter(workspace.get_code_location_entries().values())).code_location
    remote_job = location.get_repository("__repository__").get_full_job(job_name)
    from pipelines.automation import RUN_TAGS

    run = instance.create_run_for_job(
        job_def=_job_def(job_name),
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        tags=RUN_TAGS,
    )
    instance.submit_run(run.run_id, workspace)
    return run.run_id


def _job_def(job_name: str):
    import queue_location  # pytest puts this test's folder on sys.path

    return getattr(queue_location, job_name)


def _dequeue(instance, context) -> None:
    list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(context))


def test_second_warehouse_run_waits_for_the_first():
    with instance_for_test(overrides=_instance_overrides()) as instance:
        target = ModuleTarget(
            module_name="tests.pipelines.queue_location", attribute="defs", working_directory=str(REPO),
            location_name="queue_test",
        )
        with create_test_daemon_workspace_context(target, instance) as context:
            workspace = context.create_request_context()
            first = _submit(instance, workspace, "writer_a")
            second = _submit(instance, workspace, "writer_b")
            assert instance.get_run_by_id(first).status == dg.DagsterRunStatus.QUEUED
            assert instance.get_run_by_id(second).status == dg.DagsterRunStatus.QUEUED

            _dequeue(instance, context)
            launched = [r.run_id for r in instance.run_launcher.queue()]
            assert launched == [first]
            assert instance.get_run_by_id(second).status == dg.DagsterRunStatus.QUEUED

            _dequeue(instance, context)  # still running: the second keeps waiting
            assert [r.run_id for r in instance.run_launcher.queue()] == [first]

            instance.report_run_failed(instance.get_run_by_id(first))  # the first run ends (here: fails)
            _dequeue(instance, context)
            assert [r.run_id for r in instance.run_launcher.queue()] == [first, second]
