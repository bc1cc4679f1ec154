"""Run by tests/test_crash.py in a process of its own, against the crash-tested server's database:
`setup` migrates and makes a district, a worker with a token and the home-visit form; `verify` reports what the
database holds.
Settings come from the DOORSTEP_* environment, as the server's do."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from factories import headers_for, make_district, make_form_version, make_user  # noqa: E402
from server.core import db  # noqa: E402
from server.models import Attachment, Household, Submission, SubmissionAttachment, Visit  # noqa: E402
from server.settings import load_settings  # noqa: E402


async def setup(settings) -> dict:
    district = await make_district()
    await make_form_version("home_visit")
    worker = await make_user("worker", district.east_a)
    return {"authorization": (await headers_for(settings, worker))["Authorization"], "community": str(district.east_a.id)}


async def verify(settings) -> dict:
    return {
        "households": sorted(str(h) for h in await Household.all().values_list("id", flat=True)),
        "submissions": sorted(str(s) for s in await Submission.all().values_list("id", flat=True)),
        "visits": await Visit.all().count(),
        "attachments": sorted(await Attachment.all().values_list("sha256", flat=True)),
        "links": sorted(await SubmissionAttachment.all().values_list("attachment_id", flat=True)),
    }


async def main(command: str) -> None:
    settings = load_settings()
    if command == "setup":
        await db.migrate(settings)
    await db.connect(settings)
    try:
        print(json.dumps(await (setup if command == "setup" else verify)(settings)))
    finally:
        await db.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
