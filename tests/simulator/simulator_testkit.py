"""Helpers shared by the simulator's tests."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_digests(root: Path) -> dict[str, str]:
    """Every file under root (its path relative to root) -> the sha256 of its bytes: two runs wrote the same
    output when these are equal."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file()}
