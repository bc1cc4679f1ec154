"""The canonical hash of a request body: how a retry is told from another body sent under the same id."""

from __future__ import annotations

import hashlib
import json


def body_hash(body: object) -> str:
    """sha256 of the body as JSON with sorted keys and no spaces, so key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
