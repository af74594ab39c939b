"""A minimal code location for the run-queue test: two warehouse-writing jobs tagged like every job in pipelines/."""
import dagster as dg

from pipelines.automation import RUN_TAGS


@dg.op
def touch_warehouse() -> None:
    pass


@dg.job(tags=RUN_TAGS)
def writer_a():
    touch_warehouse()


@dg.job(tags=RUN_TAGS)
def writer_b():
    touch_warehouse()


defs = dg.Definitions(jobs=[writer_a, writer_b])
