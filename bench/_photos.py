"""Photos for the load and field benchmarks: a phone-like JPEG of a chosen size, and the same picture under other
bytes (so under another hash) at no cost."""

from __future__ import annotations

import io


def base_photo(target_bytes: int = 1_000_000) -> bytes:
    """A noisy JPEG of about `target_bytes` (within 10 %), like a phone's photo at reduced size."""
    from PIL import Image

    side, best = 600, b""
    for _ in range(8):
        out = io.BytesIO()
        Image.effect_noise((side * 4 // 3, side), 60).convert("RGB").save(out, "JPEG", quality=90)
        best = out.getvalue()
        if abs(len(best) - target_bytes) <= target_bytes // 10:
            break
        side = max(16, int(side * (target_bytes / len(best)) ** 0.5))
    return best


def variant(jpeg: bytes, tag: str) -> bytes:
    """The same picture with other bytes: a JPEG comment segment after the start marker."""
    comment = f"doorstep load {tag}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]
