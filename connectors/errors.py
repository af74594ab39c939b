"""The one exception every connector raises for a record it cannot accept.

The store catches it per record and writes a quarantine row with ``reason``; the rest of the delivery loads.
"""
from __future__ import annotations


class RecordError(ValueError):
    """A delivered record failed parsing or validation; ``reason`` says why, without personal data in clear."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
