"""The field app's first-load weight: every file a first visit downloads (the shell imports every module at start,
and the service worker caches them all), gzip-compressed as the server sends them, against the 300 KB goal; the
same uncompressed as the baseline.

Run: .venv/bin/python bench/field_app.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from server.http.routes import field_app  # noqa: E402

GOAL = 300 * 1024


def weigh() -> dict:
    packed = field_app.first_load()
    plain = {name: len(body) for name, (body, _, _) in field_app._bundle()[0].items()}
    return {"files": len(packed), "gzip": sum(packed.values()), "identity": sum(plain.values()), "by_file": packed}


def main() -> None:
    figures = weigh()
    for name, size in sorted(figures["by_file"].items(), key=lambda item: -item[1]):
        print(f"  {name:32} {size / 1024:6.1f} KB")
    print(f"首次加载：{figures['files']} 个文件，gzip 后 {figures['gzip'] / 1024:.1f} KB"
          f"（未压缩 {figures['identity'] / 1024:.1f} KB；目标 < {GOAL // 1024} KB）")


if __name__ == "__main__":
    main()
