"""The canonical intake schema: what every feed is mapped onto, and the one definition of it.

Conventions (they hold for every table the connectors write):

* Times are naive ``TIMESTAMP`` values in China Standard Time (UTC+8). Feeds that carry an offset or epoch
  milliseconds are converted to CST before they get here.
* Coordinates are WGS-84 (GCJ-02 and BD-09 are converted on load); ``lon``/``lat`` are null when unknown.
* Personal data never appears in clear: ``caller_key`` is an HMAC of the normalised phone number
  (see ``connectors/pii.py``); names and ID-card numbers are dropped or hashed.
* ``(channel, source_id)`` identifies an intake. ``version_at`` orders its versions: the current layer keeps
  the row with the greatest ``version_at`` (ties broken by the later load and position).

Warehouse layout (DuckDB, ``$GONGZHI_HOME/warehouse.duckdb``), following pudl's layer naming:

* ``raw.<channel>__intake``  every delivered version, append-only, with ``load_id``, ``delivery``, ``position``
* ``core.intake``            the latest version of each intake (this schema)
* ``core.intake_event``      lifecycle events of the latest version of each intake (EVENT_SCHEMA)
* ``core.quarantine``        rows that could not be parsed or failed validation (QUARANTINE_SCHEMA)
* ``core.load_log``          one row per delivery: rows in, loaded, quarantined (LOAD_LOG_SCHEMA)
"""
from __future__ import annotations

import pyarrow as pa

CHANNELS = ("12345", "110", "petition", "hotline")

# Lifecycle vocabulary of ../shared/domain.md: the only values allowed in intake_event.event_type.
EVENT_TYPES = (
    "received",
    "answered_directly",
    "dispatched",
    "signed",
    "returned",
    "redispatched",
    "extension_requested",
    "extension_approved",
    "extension_rejected",
    "urged",
    "closed",
    "callback",
    "reopened",
    "merged",
)

DEMAND_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬", "其他")
URGENCIES = ("一般", "紧急", "特急")
RATINGS = ("满意", "基本满意", "不满意")

INTAKE_SCHEMA = pa.schema(
    [
        pa.field("channel", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("version_at", pa.timestamp("us"), nullable=False),  # the feed's change time (gxsj, updated_at, file date)
        pa.field("received_at", pa.timestamp("us"), nullable=False),
        pa.field("caller_key", pa.string()),  # HMAC-SHA256 hex of the normalised number; null when withheld
        pa.field("demand_type", pa.string()),  # DEMAND_TYPES, null when the feed does not say
        pa.field("title", pa.string()),
        pa.field("content", pa.string()),  # as delivered (no cleaning: matching normalises its own copy)
        pa.field("address", pa.string()),
        pa.field("area_code", pa.string()),  # digits as delivered (6, 9 or 12)
        pa.field("street_code", pa.string()),  # 9-digit division code when known
        pa.field("community_code", pa.string()),  # 12-digit division code when known
        pa.field("lon", pa.float64()),  # WGS-84
        pa.field("lat", pa.float64()),  # WGS-84
        pa.field("source_category", pa.string()),  # the feed's own category, levels joined with '/'
        pa.field("urgency", pa.string()),  # URGENCIES
        pa.field("unit", pa.string()),  # responsible unit as the feed names it
        pa.field("dispatched_at", pa.timestamp("us")),
        pa.field("signed_at", pa.timestamp("us")),
        pa.field("deadline_at", pa.timestamp("us")),  # the feed's deadline, before any extension
        pa.field("extended_deadline_at", pa.timestamp("us")),  # deadline after an approved extension
        pa.field("closed_at", pa.timestamp("us")),
        pa.field("source_status", pa.string()),  # the feed's status word, as delivered
        pa.field("rating", pa.string()),  # RATINGS, normalised (1-5 scales mapped per domain.md)
        pa.field("rating_score", pa.int8()),  # 1-5 when the feed uses a numeric scale
        pa.field("urge_count", pa.int32()),
        pa.field("reopened", pa.bool_()),
        pa.field("linked_source_id", pa.string()),  # a call-taker's manual link (12345 glgdbh); often wrong
        pa.field("marked_repeat", pa.bool_()),  # the feed's own repeat flag (petition 是否重复信访)
        pa.field("handed_to", pa.string()),  # 110 转办去向: '12345平台' or a department
        pa.field("people_count", pa.int32()),  # petition 人数
        pa.field("extra", pa.string()),  # JSON of unknown keys the feed sent, kept but not interpreted
        pa.field("load_id", pa.string(), nullable=False),
        pa.field("delivery", pa.string(), nullable=False),  # file name or API page
        pa.field("position", pa.int64(), nullable=False),  # row / line / record index within the delivery
    ]
)

EVENT_SCHEMA = pa.schema(
    [
        pa.field("channel", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("seq", pa.int32(), nullable=False),  # order of the event within the intake
        pa.field("event_at", pa.timestamp("us"), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),  # EVENT_TYPES
        pa.field("unit", pa.string()),
        pa.field("note", pa.string()),  # for callback: the rating word
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("channel", pa.string(), nullable=False),
        pa.field("load_id", pa.string(), nullable=False),
        pa.field("delivery", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),  # row / line number, or -1 for the whole delivery
        pa.field("reason", pa.string(), nullable=False),
        pa.field("content_masked", pa.string()),  # the raw content with phone and ID numbers masked
        pa.field("quarantined_at", pa.timestamp("us"), nullable=False),
    ]
)

LOAD_LOG_SCHEMA = pa.schema(
    [
        pa.field("load_id", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("delivery", pa.string(), nullable=False),
        pa.field("checksum", pa.string()),  # sha256 of the delivered bytes: the same delivery loads once
        pa.field("rows_in", pa.int64(), nullable=False),
        pa.field("rows_loaded", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("loaded_at", pa.timestamp("us"), nullable=False),
    ]
)
