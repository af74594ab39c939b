"""What case matching writes: the contract between ``dedupe/`` and the dbt project.

Input: ``core.intake`` (see ``connectors/schema.py``). Output tables in schema ``core``:

* ``core.case_link``   one row per intake: its case and how it got there (CASE_LINK_SCHEMA)
* ``core.case``        one row per case ever created, merged ones included (CASE_SCHEMA)
* ``core.case_merge``  one row per merge of two existing cases: the older id survives (CASE_MERGE_SCHEMA)
* ``core.match_review`` candidate pairs in the uncertain band, for reviewers (REVIEW_SCHEMA)

Reviewers' decisions are read from ``$GONGZHI_HOME/review/decisions.csv`` with columns
``channel_a, source_id_a, channel_b, source_id_b, decision`` where decision is ``must_link`` or ``cannot_link``.
"""
from __future__ import annotations

import pyarrow as pa

# lead: the case's lead intake; duplicate: same incident, another person or channel;
# same_caller: the same person reporting again; repeat: opened a new case after the earlier one was closed
# (the new case carries repeat_of_case_id, and this intake is also its lead).
LINK_TYPES = ("lead", "duplicate", "same_caller", "repeat")

CASE_LINK_SCHEMA = pa.schema(
    [
        pa.field("channel", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("link_type", pa.string(), nullable=False),  # LINK_TYPES
        pa.field("is_lead", pa.bool_(), nullable=False),
        pa.field("match_score", pa.float64()),  # match probability against the case it joined; null for a lead
        pa.field("matched_to_channel", pa.string()),  # the intake it matched best
        pa.field("matched_to_source_id", pa.string()),
    ]
)

CASE_SCHEMA = pa.schema(
    [
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("lead_channel", pa.string(), nullable=False),
        pa.field("lead_source_id", pa.string(), nullable=False),
        pa.field("repeat_of_case_id", pa.string()),
        pa.field("merged_into_case_id", pa.string()),  # set when this case was merged into an older one
        pa.field("created_at", pa.timestamp("us"), nullable=False),  # first_received_at of the case
    ]
)

CASE_MERGE_SCHEMA = pa.schema(
    [
        pa.field("merged_case_id", pa.string(), nullable=False),
        pa.field("into_case_id", pa.string(), nullable=False),
        pa.field("merged_at", pa.timestamp("us"), nullable=False),
        pa.field("reason", pa.string()),
    ]
)

REVIEW_SCHEMA = pa.schema(
    [
        pa.field("channel_a", pa.string(), nullable=False),
        pa.field("source_id_a", pa.string(), nullable=False),
        pa.field("channel_b", pa.string(), nullable=False),
        pa.field("source_id_b", pa.string(), nullable=False),
        pa.field("match_score", pa.float64(), nullable=False),
        pa.field("decision", pa.string()),  # null until a reviewer decides
    ]
)
