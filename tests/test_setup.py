"""The operator's commands: loading areas from CSV and XLSX, the first admin, the demo district and its field."""

import hashlib
import os
import re
import subprocess
import sys

import pytest
from openpyxl import Workbook
from tortoise import Tortoise

from forms.formats import id_number_problem
from server.core.permissions import ROLE_NAMES
from server.http.routes.households import REGISTER
from server.http.routes.submissions import PUT
from server.models import Area, Attachment, Household, Member, Submission, User, UserArea, Visit
from server.ops import demo, demo_field
from server.ops.areas_file import load_areas
from server.ops.errors import SetupError

AREAS_CSV = "code,name,level,parent_code\n430602,巴陵区,county,\n430602001,城东街道,township,430602\n430602001001,白竹亭社区,community,430602001\n"


async def test_areas_load_from_csv_and_a_second_load_changes_nothing(tmp_path, clean_database):
    path = tmp_path / "areas.csv"
    # Children before parents, and a BOM as Excel writes it: the loader copes with both.
    lines = AREAS_CSV.splitlines()
    path.write_text("\ufeff" + "\n".join([lines[0], lines[3], lines[2], lines[1]]) + "\n", encoding="utf-8")
    assert await load_areas(path) == (3, 0)
    assert await load_areas(path) == (0, 3)
    community = await Area.get(code="430602001001")
    township = await Area.get(code="430602001")
    assert community.township_id == township.id and community.parent_id == township.id


async def test_areas_load_from_xlsx(tmp_path, clean_database):
    book = Workbook()
    for row in [line.split(",") for line in AREAS_CSV.splitlines()]:
        book.active.append(row)
    book.save(tmp_path / "areas.xlsx")
    assert await load_areas(tmp_path / "areas.xlsx") == (3, 0)


@pytest.mark.parametrize(
    "content",
    [
        "code,name\n1,区\n",
        AREAS_CSV + "430602001002,凌云社区,village,430602001\n",
        AREAS_CSV + "430602001002,凌云社区,community,430602\n",
        AREAS_CSV + "430602001003,凌云社区,community,999\n",
    ],
)
async def test_a_bad_area_file_loads_nothing(tmp_path, clean_database, content):
    path = tmp_path / "areas.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SetupError):
        await load_areas(path)
    assert await Area.all().count() == 0


async def test_the_demo_loads_households_with_members_visits_and_photos(clean_database, app_settings):
    said = await demo.load_demo(app_settings)
    assert await Area.filter(name="白竹亭社区").exists()
    assert {u.role for u in await User.all()} == {"bureau", "supervisor", "worker", "provider"}
    assert await Household.all().count() == len(demo_field.HOUSEHOLDS) == 5
    submitted = demo_field.submissions()
    assert await Submission.all().count() == await Visit.all().count() == len(submitted)
    assert {s.form.slug for s in await Submission.all().prefetch_related("form")} >= {"home_visit", "economic_survey"}
    # Every household has its members from the forms filled there; the first has a second visit.
    for household in demo_field.HOUSEHOLDS:
        assert await Member.filter(household_id=household.id).exists(), household.head
    assert await Visit.filter(household_id=demo_field.ZHANG.id).count() == 3
    assert await Attachment.all().count() == len(_demo_photos()) == 6
    # Photos were taken there and then, and used by one household each: no evidence warning on any submission.
    assert [s.flags for s in await Submission.all()] == [[]] * len(submitted)
    assert "演示户 5 户（10 名成员），走访提交 8 份，照片 6 张" in said


async def test_the_demo_printout_names_every_account_with_its_role_and_areas(clean_database, app_settings):
    said = await demo.load_demo(app_settings)
    for username, display_name, role, codes in demo.DEMO_USERS:
        line = next(line for line in said.splitlines() if line.split()[:1] == [username])
        assert ROLE_NAMES[role] in line and display_name in line
        for area in await Area.filter(code__in=codes):
            assert area.name in line
    assert "服务机构：巴陵区阳光助老服务中心" in said
    assert len(re.findall(r"共同密码（只显示这一次）：\S+", said)) == 1
    for household in demo_field.HOUSEHOLDS:
        assert household.id in said


async def test_a_demo_worker_logs_in_with_the_printed_password_and_opens_a_household_file(app, app_settings, client):
    said = await demo.load_demo(app_settings)
    password = re.search(r"共同密码（只显示这一次）：(\S+)", said).group(1)
    login = await client.post("/api/v1/auth/token", json={"username": "worker", "password": password})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    reply = await client.get(f"/api/v1/households/{demo_field.CHEN.id}", headers=headers)
    assert reply.status_code == 200, reply.text
    file = reply.json()
    assert file["head"] == "陈德福" and file["situation"]["guardianship"] == "grandparents"
    assert sorted(m["name"] for m in file["members"]) == ["陈思雨", "陈浩然"]
    assert file["open_conflicts"] == 0
    # The worker's photos are stored and open for them; another worker's household is not theirs.
    for sha in _demo_photos(demo_field.ZHANG, demo_field.CHEN):
        photo = await client.get(f"/api/v1/attachments/{sha}", headers=headers)
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert hashlib.sha256(photo.content).hexdigest() == sha
    assert (await client.get(f"/api/v1/households/{demo_field.LI.id}", headers=headers)).status_code == 404


async def test_a_second_demo_load_changes_nothing_and_says_so(clean_database, app_settings):
    first = await demo.load_demo(app_settings)
    before = await _row_counts()
    again = await demo.load_demo(app_settings)
    assert await _row_counts() == before
    assert again.startswith("演示数据已存在，未作改动。")
    assert "共同密码" not in again and "本次新增" not in again
    assert [line for line in again.splitlines() if line.startswith("  ")] == \
        [line for line in first.splitlines() if line.startswith("  ")]


async def test_a_demo_that_cannot_act_as_its_workers_says_why(clean_database, app_settings):
    await demo.load_demo(app_settings)
    await UserArea.filter(user__username="worker3").delete()  # an admin took the worker off their community
    with pytest.raises(SetupError, match="演示数据未能载入"):
        await demo.load_demo(app_settings)


def test_the_demo_sends_what_a_phone_may_send():
    """Bodies the API's own schemas accept, so the demo shows what the field can produce and nothing else."""
    for household in demo_field.HOUSEHOLDS:
        body = demo.registration_body(household, demo_field.NAMESPACE)
        assert not list(REGISTER.reference.iter_errors(body)), household.key
    for item in demo_field.submissions():
        assert not list(PUT.reference.iter_errors(demo.submission_body(item, 1))), item.key


def test_the_demo_id_numbers_are_valid_and_of_a_region_no_one_lives_in():
    numbers = set(re.findall(r"[1-8]\d{16}[\dX]", repr([s.data for s in demo_field.submissions()])))
    assert len(numbers) >= 10
    for number in numbers:
        assert id_number_problem(number) is None and number.startswith(demo_field.FAKE_REGION), number


def test_the_demo_photos_are_small_and_say_when_and_where_they_were_taken():
    from media.images import inspect

    files = sorted(demo.DEMO_PHOTOS.glob("*.jpg"))
    assert len(files) == len(_demo_photos())
    for path in files:
        assert path.stat().st_size < 60_000
        info = inspect(str(path), "image/jpeg")
        assert info.taken_at is not None and info.gps is not None
        assert abs(info.gps[0] - 29.37) < 0.05 and abs(info.gps[1] - 113.13) < 0.05


def _demo_photos(*households) -> set[str]:
    """The sha256 of the photos the demo's submissions use (of the given households, or all)."""
    if not households:
        return demo.photo_hashes()
    return {hashlib.sha256(data).hexdigest() for item in demo_field.submissions() if item.household in households
            for _, data in demo.resolve_photos(item.data)[1]}


async def _row_counts() -> dict[str, int]:
    return {model._meta.db_table: await model.all().count() for model in Tortoise.apps.get_models_iterable()}


def doorstep(*args, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, env=env, input=input, timeout=120)


def test_settings_are_listed_with_help():
    out = doorstep("settings").stdout
    assert "DOORSTEP_DATABASE_URL" in out and "DOORSTEP_SECRET" in out and "DOORSTEP_MAX_PHOTO_BYTES" in out


def test_production_refuses_to_start_without_a_secret(tmp_path):
    env = os.environ | {"DOORSTEP_ENV": "production", "DOORSTEP_SECRET": "", "DOORSTEP_DATA_DIR": str(tmp_path)}
    result = doorstep("migrate", env=env)
    assert result.returncode == 2 and "DOORSTEP_SECRET" in result.stderr


def test_migrate_and_create_admin_from_the_command_line(tmp_path):
    env = os.environ | {"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_DATABASE_URL": ""}
    env.pop("DOORSTEP_ADMIN_PASSWORD", None)
    assert doorstep("migrate", env=env).returncode == 0
    assert doorstep("migrate", env=env).returncode == 0  # idempotent
    made = doorstep("create-admin", "boss", env=env, input="a long password\n")
    assert made.returncode == 0, made.stderr
    again = doorstep("create-admin", "root", "--if-missing", env=env)
    assert again.returncode == 0 and "未作改动" in again.stdout
    taken = doorstep("create-admin", "boss", env=env | {"DOORSTEP_ADMIN_PASSWORD": "another password"})
    assert taken.returncode == 1 and "已存在" in taken.stderr


def test_the_demo_loads_from_the_command_line(tmp_path):
    env = os.environ | {"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_DATABASE_URL": ""}
    assert doorstep("migrate", env=env).returncode == 0
    first = doorstep("load-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "共同密码" in first.stdout and "本次新增 5 户、8 份提交、6 张照片" in first.stdout
    again = doorstep("load-demo", env=env)
    assert again.returncode == 0 and "未作改动" in again.stdout
