"""Run by tests/test_field_app.py in a process of its own, against the browser-tested server's database:
`setup` migrates and makes a district, a worker, two households, the home-visit form (with a time question) and
the 家计调查; `needs` gives
a household three needs; `dispatched` a need dispatched to a provider with a user; `needs_state` what became of the
needs; `verify` reports what the database and the photo store hold; `long_file` a household of 300 visits (and one
of a single visit) for the phone to keep whole offline.
Settings come from the DOORSTEP_* environment, as the server's do."""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forms  # noqa: E402
from factories import make_district, make_form_version, make_household, make_need, make_provider, make_user  # noqa: E402
from server.core import db  # noqa: E402
from server.households import search  # noqa: E402
from server.models import Attachment, FormVersion, Household, Member, Need, NeedAttachment, Submission  # noqa: E402
from server.settings import load_settings  # noqa: E402


async def setup(settings) -> dict:
    district = await make_district()
    # The home visit, but 接待人 may not be written in Latin letters, said with an `anyOf`: a rule the phone leaves to
    # the server (of the whole schema it checks only if/then/else, dependentSchemas, dependentRequired, not and
    # uniqueItems), so the server's 422 can be seen at its field.
    schema = copy.deepcopy(next(f for f in forms.builtin_forms() if f["slug"] == "home_visit")["schema"])
    schema["properties"]["met_person"]["anyOf"] = [{"pattern": "^[^A-Za-z]*$"}]
    # And a time question (离开时间), a widget no built-in form has, on the last page.
    schema["properties"]["left_at"] = {"type": "string", "format": "time", "title": "离开时间"}
    version = await make_form_version("home_visit", schema=schema)
    ui = copy.deepcopy(version.ui)
    ui["pages"][-1]["questions"].append("/left_at")
    await FormVersion.filter(id=version.id).update(ui=ui)  # only the hints: its sync number stays the trigger's
    await make_form_version("economic_survey")
    await make_user("worker", district.east_a, username="fieldworker")
    await make_user("supervisor", district.east, username="fieldsupervisor")
    for head, address in (("张秀英", "白竹亭社区 3 组 12 号"), ("李德明", "白竹亭社区 5 组 2 号")):
        household = await make_household(district.east_a, head=head, address=address)
        search.index(household, [])
        await household.save()
    return {"community": str(district.east_a.id)}


async def verify(settings) -> dict:
    return {
        "households": {str(h.id): h.head for h in await Household.all()},
        "submissions": [{"id": str(s.id), "household": str(s.household_id), "data": s.data, "review": s.review_state, "flags": s.flags,
                         "replaces": str(s.replaces_id) if s.replaces_id else None}
                        for s in await Submission.all().order_by("received_at")],
        "attachments": sorted(await Attachment.all().values_list("sha256", flat=True)),
    }


async def needs(settings) -> dict:
    """Three needs of 张秀英's household: one overdue, one being served, one done (no longer to follow up)."""
    household = await Household.get(head="张秀英")
    made = [await make_need(household, "accepted", item="assistance.policy_advice"),
            await make_need(household, overdue=True),
            await make_need(household, "done", item="assistance.crisis_intervention")]
    return {"household": str(household.id), "needs": [str(n.id) for n in made]}


async def many_needs(settings) -> dict:
    """130 open needs of 张秀英's household, and the oldest of all, raised a year ago and overdue: more than a page of
    the needs list (100), the overdue one on its second page."""
    from datetime import datetime, timedelta, timezone

    household = await Household.get(head="张秀英")
    for _ in range(130):
        await make_need(household)
    stamp = datetime.now(timezone.utc) - timedelta(days=365)
    oldest = await make_need(household, item="assistance.policy_advice", raised_at=stamp, due_at=stamp)
    return {"oldest": str(oldest.id)}


async def dispatched(settings) -> dict:
    """A need of 张秀英's household dispatched to one provider, whose user is `provideruser`; a second provider's
    user, `otherprovider`, has nothing dispatched to them."""
    household = await Household.get(head="张秀英")
    sunshine = await make_provider(name="阳光助老服务中心")
    other = await make_provider(name="康乐家政服务部")
    await make_user("provider", username="provideruser", provider=sunshine)
    await make_user("provider", username="otherprovider", provider=other)
    need = await make_need(household, "dispatched", provider=sunshine, description="每周买菜两次")
    return {"need": str(need.id)}


async def needs_state(settings) -> dict:
    return {str(n.id): {"status": n.status, "proofs": sorted(await NeedAttachment.filter(need_id=n.id).values_list(
        "attachment_id", flat=True))} for n in await Need.all()}


async def long_file(settings) -> dict:
    """赵长档's household, 300 home visits over the years (two photos each, a need raised every tenth), and 钱一访's
    with one, due a visit: the file a phone keeps whole for offline, and the baseline the bench opens beside it. Visit n
    (1 the oldest) was observed on day n; the sync that follows carries both households."""
    import random
    from datetime import datetime, timedelta, timezone

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from _household_data import seed_big_file
    from server.models import Area, LedgerEntry, User, Visit

    community = await Area.get(id=(await Household.get(head="张秀英")).community_id)
    worker = await User.get(username="fieldworker")
    version = await FormVersion.filter(form__slug="home_visit").order_by("-version").first()
    made = {}
    for head, visits in (("赵长档", 300), ("钱一访", 1)):
        household = await make_household(community, head=head, address=f"白竹亭社区 9 组 {visits} 号")
        search.index(household, [])
        await household.save()
        await seed_big_file(household, worker.id, version, visits, 2, random.Random(visits), salt=head)
        # Days in order, so that visit n is the n-th oldest (the seeding draws them at random).
        start = datetime(2019, 1, 1, 9, tzinfo=timezone.utc)
        for n, visit in enumerate(await Visit.filter(household_id=household.id).order_by("observed_at", "id"), 1):
            at = start + timedelta(days=n)
            await Visit.filter(id=visit.id).update(observed_at=at, started_at=at, finished_at=at + timedelta(minutes=40))
        ordered = await Visit.filter(household_id=household.id).order_by("observed_at").values_list("id", flat=True)
        made[head] = {"household": str(household.id), "oldest": str(ordered[0]), "newest": str(ordered[-1])}
    # 钱一访's household is a 低保 family overdue its visit: its file is kept ahead, unopened.
    qian = made["钱一访"]["household"]
    stamp = datetime.now(timezone.utc)
    await LedgerEntry.create(household_id=qian, kind="assistance", plan="other", every_days=90,
                             last_visit_at=start + timedelta(days=1), due_at=stamp - timedelta(days=3),
                             created_at=stamp, updated_at=stamp)
    return made


async def members(settings) -> dict:
    """张秀英's household's living members as stored: their whole ID numbers and fields."""
    household = await Household.get(head="张秀英")
    return {m.data["name"]: m.data for m in await Member.filter(household_id=household.id, removed_at__isnull=True)}


async def console_a_catalogue(settings) -> dict:
    """The service catalogue, which the console's form designer binds needs to."""
    from server.surveys.catalogue import load_catalogue

    return {"added": await load_catalogue(forms.catalogue())}


# --- The console's records screens (tests/test_console_records.py) --------------------------------------------------

async def console_b_seed(settings) -> dict:
    """After `setup`: the service catalogue, a bureau user of the county, an admin, a provider serving 白竹亭社区 with a user
    (`consoleprovider`) and room for 代买助餐 this month, and a need of 张秀英's household raised with consent."""
    from server.models import Area
    from server.surveys.catalogue import load_catalogue

    await load_catalogue(forms.catalogue())
    county = await Area.get(level="county")
    community = await Area.get(name="白竹亭社区")
    await make_user("bureau", county, username="consolebureau")
    await make_user("admin", username="consoleadmin")
    sunshine = await make_provider(community, name="阳光助老服务中心", offers={"elderly.meal_shopping": 5})
    await make_user("provider", username="consoleprovider", provider=sunshine)
    household = await Household.get(head="张秀英")
    need = await make_need(household, item="elderly.meal_shopping", description="每周代买菜两次")
    return {"need": str(need.id), "provider": str(sunshine.id), "household": str(household.id)}


async def console_b_need(settings) -> dict:
    need = await Need.get()
    return {"status": need.status, "provider": str(need.provider_id) if need.provider_id else None}


async def console_c_conflict(settings) -> dict:
    """After `console_b_seed` and the economic survey of tests/test_console_records.py `station`: a conflict on
    张秀英's household file, as two phones offline leave one. The survey saw its housing 自有住房 (own); a colleague's
    visit two hours earlier, which saw it 租房 (rented), reaches the server only now: the later visit's value stays,
    the other waits for the supervisor."""
    household = await Household.get(head="张秀英")
    conflict = await offline_conflict(household, None, "housing", household.situation["housing"],
                                      household.situation_meta["housing"], "rented", "otherworker")
    return {"conflict": str(conflict.id), "household": str(household.id)}


async def offline_conflict(household: Household, member: Member | None, field: str, kept_value, kept_meta: dict,
                           lost_value, colleague_name: str):
    """The conflict a colleague's visit two hours before the one that set `field` leaves, reaching the server now."""
    import uuid
    from datetime import datetime, timedelta, timezone

    from server.models import HouseholdConflict

    colleague = await make_user("worker", await household.community, username=colleague_name)
    stamp = datetime.now(timezone.utc)
    lost = {"at": (datetime.fromisoformat(kept_meta["at"]) - timedelta(hours=2)).isoformat(),
            "received": stamp.isoformat(), "submission": str(uuid.uuid4()), "author": str(colleague.id)}
    return await HouseholdConflict.create(
        household_id=household.id, member_id=member.id if member else None, field=field,
        kept_value={"value": kept_value}, kept_meta=kept_meta, lost_value={"value": lost_value}, lost_meta=lost,
        submission_id=uuid.UUID(lost["submission"]), created_at=stamp)


COMMANDS = {"setup": setup, "verify": verify, "needs": needs, "many_needs": many_needs, "dispatched": dispatched,
            "needs_state": needs_state, "members": members, "long_file": long_file,
            "console_a_catalogue": console_a_catalogue, "console_b_seed": console_b_seed,
            "console_b_need": console_b_need, "console_c_conflict": console_c_conflict}


# --- The console's dispatch, closing and retiring (tests/test_console_dispatch.py) ---------------------------------

async def console_d_seed(settings) -> dict:
    """After `setup`, all of `console_b_seed`, and: a second provider of 代买助餐 in 白竹亭社区 and a third serving only
    楚江圩社区; 李德明's need accepted by 阳光助老服务中心 and past its deadline; last month's needs of 城东街道 (on the
    stations' calendar): one raised, one done, and one raised half an hour into this month, which is still last month
    in UTC; and 城东街道's own published form `east_visit`."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from server.models import Area, Form, Provider

    seeded = await console_b_seed(settings)
    community = await Area.get(name="白竹亭社区")
    township = await Area.get(name="城东街道")
    kangle = await make_provider(community, name="康乐家政服务部", offers={"elderly.meal_shopping": 5})
    await make_provider(await Area.get(name="楚江圩社区"), name="楚江助餐点", offers={"elderly.meal_shopping": 5})
    sunshine = await Provider.get(id=seeded["provider"])
    li = await Household.get(head="李德明")
    overdue = await make_need(li, "accepted", provider=sunshine, overdue=True, description="每天中午送餐")

    zone = ZoneInfo(settings.station_timezone)
    this_month = datetime.now(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for status, at in (("raised", last_month + timedelta(days=9, hours=10)),
                       ("done", last_month + timedelta(days=2, hours=9)),
                       ("raised", this_month + timedelta(minutes=30))):
        need = await make_need(li, status, provider=sunshine if status == "done" else None)
        steps = {f"{k}_at": at + timedelta(days=1) for k in ("dispatched", "accepted", "started", "done")
                 if getattr(need, f"{k}_at")}
        await Need.filter(id=need.id).update(raised_at=at, due_at=at + timedelta(days=7), updated_at=at, **steps)

    await make_form_version("home_visit", as_slug="east_visit", area=township)
    await Form.filter(slug="east_visit").update(draft_title="城东街道入户走访")
    return seeded | {"overdue": str(overdue.id), "other_provider": str(kangle.id), "township": str(township.id),
                     "last_month": last_month.strftime("%Y-%m"), "this_month": this_month.strftime("%Y-%m")}


COMMANDS["console_d_seed"] = console_d_seed


# --- The console's review queue (tests/test_console_reviews.py) ----------------------------------------------------

async def console_r_seed(settings) -> dict:
    """After `setup`: a worker of 凌云社区 (the township's other community) with a household there."""
    from server.models import Area

    community = await Area.get(name="凌云社区")
    worker = await make_user("worker", community, username="lingyunworker")
    await type(worker).filter(id=worker.id).update(display_name="凌云社工")
    household = await make_household(community, head="王桂芝", address="凌云社区 2 组 7 号")
    search.index(household, [])
    await household.save()
    zhang = await Household.get(head="张秀英")
    return {"household": str(household.id), "worker": str(worker.id), "zhang": str(zhang.id)}


COMMANDS["console_r_seed"] = console_r_seed


async def console_m_conflict(settings) -> dict:
    """After the economic survey of tests/test_console_records.py `station`: a conflict on a member's field, as two
    phones offline leave one. The survey saw 李桂兰's health 慢性病 (chronic); a colleague's visit two hours earlier saw
    it 健康 (healthy) and reaches the server only now."""
    member = next(m for m in await Member.filter(removed_at__isnull=True) if m.data.get("name") == "李桂兰")
    conflict = await offline_conflict(await member.household, member, "health", member.data["health"],
                                      member.meta["health"], "healthy", "memberworker")
    return {"conflict": str(conflict.id), "member": str(member.id)}


COMMANDS["console_m_conflict"] = console_m_conflict


# --- The console's 一户一档 screen (tests/test_console_households.py) ------------------------------------------------

async def console_h_seed(settings) -> dict:
    """After `setup`: 张秀英 (born 1946-05-02, her ID number given) as the head member of her household, and a second
    file of that household which another worker registered another day, at 白竹亭社区3组12号 (the same address once
    written alike), she again, and a grandson 张小军. The supervisor is named 王芳."""
    import uuid
    from datetime import datetime, timezone

    from factories import id_number
    from server.households.lookalikes import key_member
    from server.models import User

    await User.filter(username="fieldsupervisor").update(display_name="王芳")
    household = await Household.get(head="张秀英")
    community = await household.community
    duplicate = await make_household(community, address="白竹亭社区3组12号")  # the same address, written alike
    search.index(duplicate, [])
    await duplicate.save()
    stamp = datetime.now(timezone.utc)
    head = {"name": "张秀英", "relation": "self", "gender": "female", "birth_date": "1946-05-02",
            "id_number": id_number("19460502", "128")}
    grandson = {"name": "张小军", "relation": "grandchild", "gender": "male", "birth_date": "2012-09-01"}
    for home, people in ((household, [head]), (duplicate, [head, grandson])):
        for data in people:
            member = Member(id=uuid.uuid4(), household_id=home.id, data=data, meta={}, created_at=stamp, updated_at=stamp)
            key_member(settings, member)
            await member.save()
    return {"household": str(household.id), "duplicate": str(duplicate.id)}


COMMANDS["console_h_seed"] = console_h_seed


# --- A follow-up visit prefilled on the phone (tests/test_field_app.py) ----------------------------------------------

async def follow_up_seed(settings) -> dict:
    """After `setup`: 张秀英's file knows her and her grandson 张小军, her health as 较差 (poor) and her care as family;
    and the 儿童一人一档 (whose 父亲情况 is a $ref to a definition) is published."""
    import uuid
    from datetime import datetime, timedelta, timezone

    from factories import id_number

    await make_form_version("child_file")
    household = await Household.get(head="张秀英")
    stamp = datetime.now(timezone.utc)
    seen = {"at": stamp.isoformat()}
    household.situation = {"health": "poor", "care": "family"}
    household.situation_meta = {"health": seen, "care": seen}
    await household.save()
    people = [{"name": "张秀英", "relation": "self", "gender": "female", "birth_date": "1946-05-02",
               "id_number": id_number("19460502", "128"), "tags": ["elderly"]},
              {"name": "张小军", "relation": "grandchild", "gender": "male", "birth_date": "2012-09-01",
               "tags": ["left_behind"]}]
    ids = []
    for n, data in enumerate(people):  # registered in this order, as the file lists them
        member = await Member.create(id=uuid.uuid4(), household_id=household.id, data=data, meta={k: seen for k in data},
                                     created_at=stamp + timedelta(seconds=n), updated_at=stamp)
        ids.append(str(member.id))
    return {"household": str(household.id), "members": ids}


COMMANDS["follow_up_seed"] = follow_up_seed


async def main(command: str) -> None:
    settings = load_settings()
    if command == "setup":
        await db.migrate(settings)
    await db.connect(settings)
    try:
        print(json.dumps(await COMMANDS[command](settings), ensure_ascii=False))
    finally:
        await db.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
