"""The operator's commands: loading areas from CSV and XLSX, the first admin, the demo district."""

import os
import subprocess
import sys

import pytest
from openpyxl import Workbook

from server.models import Area, User
from server.ops import demo
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


async def test_the_demo_district_loads_once(clean_database):
    first = await demo.load_demo()
    assert "密码" in first
    assert await Area.filter(name="白竹亭社区").exists()
    assert {u.role for u in await User.all()} == {"bureau", "supervisor", "worker", "provider"}
    assert "未作改动" in await demo.load_demo()


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
