"""Areas from a file an operator prepares: a CSV or XLSX of code,name,level,parent_code, loaded all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from tortoise.transactions import in_transaction

from server.models import LEVELS, Area
from server.ops.errors import SetupError
from server.people.areas import PARENT_LEVEL, new_area

COLUMNS = ("code", "name", "level", "parent_code")


def read_area_rows(path: Path) -> list[dict]:
    """Rows of code,name,level,parent_code from a UTF-8 CSV (with or without BOM) or the first sheet of an XLSX."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).worksheets[0]
        rows = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [[v.strip() for v in row] for row in csv.reader(f)]
    if not rows or tuple(h.lower() for h in rows[0][:4]) != COLUMNS:
        raise SetupError(f"第 1 行应为表头：{','.join(COLUMNS)}")
    return [dict(zip(COLUMNS, row + [""] * 4)) | {"line": n} for n, row in enumerate(rows[1:], start=2) if any(row)]


async def load_areas(file: str | Path) -> tuple[int, int]:
    """Create the areas a file lists; existing codes are kept as they are. All or nothing."""
    rows = read_area_rows(Path(file))
    bad = [r for r in rows if r["level"] not in LEVELS]
    if bad:
        raise SetupError(f"第 {bad[0]['line']} 行：层级应为 county、township 或 community")
    known = {a.code: a for a in await Area.all()}
    created, kept = 0, 0
    async with in_transaction():
        for level in LEVELS:  # parents before children, whatever the file's order
            for row in (r for r in rows if r["level"] == level):
                if row["code"] in known:
                    kept += 1
                    continue
                parent = known.get(row["parent_code"]) if row["parent_code"] else None
                wanted = PARENT_LEVEL[level]
                if (parent.level if parent else None) != wanted:
                    raise SetupError(f"第 {row['line']} 行：上级区域 {row['parent_code'] or '（空）'} 不是{wanted or '空'}级")
                if not row["code"] or not row["name"] or len(row["name"]) > 100 or len(row["code"]) > 32:
                    raise SetupError(f"第 {row['line']} 行：代码或名称为空或过长")
                area = new_area(row["code"], row["name"], level, parent)
                await area.save()
                known[area.code] = area
                created += 1
    return created, kept
