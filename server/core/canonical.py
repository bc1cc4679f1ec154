"""Canonical JSON and its hash: how a retry is told from another body sent under the same id, and how a form
version's ETag is made. One spelling for both, so equal values always hash alike."""

from __future__ import annotations

import hashlib
import json


def digest(value: object) -> str:
    """sha256 of the value as JSON with sorted keys and no spaces, so key order and spacing do not matter."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
