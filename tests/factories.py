"""Small factories for the HTTP tests: an area tree, users of each role, their bearer headers."""

from __future__ import annotations

import hashlib
import io
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher

import forms
from form_samples import sample
from server.people.areas import new_area
from server.people.auth import issue_token
from server.core.clock import now
from server.households.lookalikes import address_key
from server.models import Area, Form, FormVersion, Household, Provider, User, UserArea

PASSWORD = "correct horse battery"
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)  # hashed once: argon2 is slow on purpose
_numbers = itertools.count(1)


async def make_area(level: str, parent: Area | None = None, name: str | None = None) -> Area:
    n = next(_numbers)
    area = new_area(f"T{n:06d}", name or f"{level}-{n}", level, parent)
    await area.save()
    return area


@dataclass
class District:
    """One county; townships east and west; communities east_a, east_b under east and west_a under west."""

    county: Area
    east: Area
    west: Area
    east_a: Area
    east_b: Area
    west_a: Area


async def make_district() -> District:
    county = await make_area("county", name="巴陵区")
    east = await make_area("township", county, "城东街道")
    west = await make_area("township", county, "楚江街道")
    return District(
        county, east, west,
        await make_area("community", east, "白竹亭社区"),
        await make_area("community", east, "凌云社区"),
        await make_area("community", west, "楚江圩社区"),
    )


async def make_user(role: str, *areas: Area, username: str | None = None, provider: Provider | None = None, **fields) -> User:
    if role == "provider" and provider is None:
        provider = await Provider.create(name="阳光助老服务中心")
    user = await User.create(
        username=username or f"{role}{next(_numbers)}",
        password_hash=PASSWORD_HASH,
        display_name=f"{role} 测试",
        role=role,
        provider=provider,
        password_changed_at=now() - timedelta(seconds=1),
        **fields,
    )
    await UserArea.bulk_create([UserArea(user=user, area=a) for a in areas])
    return user


async def headers_for(settings, user: User) -> dict:
    """A bearer header for the user, as if they had logged in (the login route has tests of its own)."""
    return {"Authorization": f"Bearer {await issue_token(settings, user)}"}


def assert_problem(response, status: int, *pointers: str) -> dict:
    """The response is problem+json with the status, a zh-CN title, and (for bad fields) exactly these pointers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    if pointers:
        assert sorted(e["pointer"] for e in body["errors"]) == sorted(pointers), body["errors"]
    return body


# --- Households, photos and submissions from the field ---------------------------------------------------------

# The repo is cloned with ../shared beside it, in CI as here.
PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
GPS_PHOTO = PHOTOS / "gps" / "DSCN0010.jpg"  # 43°28'2.814" N, 11°53'6.456" E, taken 2008-10-22 16:28:39
GPS_PHOTO_PLACE = (43.467448, 11.885127)
_colours = itertools.count(1)


async def make_form_version(slug: str = "home_visit", version: int = 1, schema: dict | None = None, *,
                            as_slug: str | None = None, area: Area | None = None) -> FormVersion:
    """A published version of a built-in form, made directly (the forms lifecycle has tests of its own); `as_slug`
    and `area` make it a copy under another slug belonging to a township or county."""
    builtin = next(f for f in forms.builtin_forms() if f["slug"] == slug)
    schema = schema or builtin["schema"]
    slug = as_slug or slug
    form, _ = await Form.get_or_create(
        slug=slug, defaults={"draft_title": builtin["title"], "draft_schema": schema, "draft_ui": builtin["ui"],
                             "draft_updated_at": now(), "area": area},
    )
    form.latest_version = max(form.latest_version, version)
    await form.save()
    return await FormVersion.create(form=form, version=version, title=builtin["title"], schema=schema,
                                    ui=builtin["ui"], etag=f"{slug}-{version}", published_at=now())


async def make_household(community: Area, location: tuple[float, float] | None = (28.1941, 112.9823), *,
                         head: str = "张秀英", address: str = "白竹亭社区 3 组 12 号") -> Household:
    """A household as registration makes it, its address keyed for lookalikes (`search.index` is left to callers
    that search)."""
    stamp = now()
    return await Household.create(
        id=uuid.uuid4(), community=community, address=address, address_key=address_key(address, community.name),
        head=head, phone="13807312456",
        latitude=location[0] if location else None, longitude=location[1] if location else None,
        body_hash="0" * 64, created_at=stamp, updated_at=stamp,
    )


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    """A small JPEG without EXIF, different on every call."""
    from PIL import Image

    n = next(_colours)
    out = io.BytesIO()
    Image.new("RGB", size, (n * 37 % 256, n * 11 % 256, n * 5 % 256)).save(out, "JPEG")
    return out.getvalue()


async def upload(client, headers: dict, data: bytes, content_type: str = "image/jpeg", name: str | None = None):
    return await client.put(f"/api/v1/attachments/{name or sha256_of(data)}", content=data,
                            headers=headers | {"Content-Type": content_type})


@dataclass
class Field:
    """Ready for home visits: a district, the home-visit form, a household of east_a, and a worker of east_a whose
    photos are stored."""

    district: District
    household: Household
    worker: User
    headers: dict
    photos: list[str]  # their sha256
    photo_bytes: dict[str, bytes] = field(default_factory=dict)

    async def share_photos(self, client, headers: dict) -> None:
        """Another user sends the same photos' bytes, as a phone that holds them does: knowing a hash is not enough
        to use a photo."""
        for data in self.photo_bytes.values():
            assert (await upload(client, headers, data)).status_code == 200


async def make_field(client, settings, photos: int = 1) -> Field:
    district = await make_district()
    await make_form_version("home_visit")
    household = await make_household(district.east_a)
    worker = await make_user("worker", district.east_a)
    headers = await headers_for(settings, worker)
    stored = {}
    for _ in range(photos):
        data = jpeg()
        assert (await upload(client, headers, data)).status_code == 201
        stored[sha256_of(data)] = data
    return Field(district, household, worker, headers, list(stored), stored)


def home_visit(door: str, photos: list[str], **changes) -> dict:
    """Answers to the built-in home-visit form, with the given photos."""
    return sample("home_visit") | {"door_photo": door, "photos": photos} | changes


def submission_body(household: Household, data: dict, *, form: str = "home_visit", version: int = 1,
                    started_at: str = "2025-03-18T09:30:00+08:00", finished_at: str = "2025-03-18T10:10:00+08:00",
                    **extra) -> dict:
    body = {"form": form, "version": version, "household": str(household.id), "data": data,
            "started_at": started_at, "finished_at": finished_at}
    return body | extra


def economic_survey(member_id: str) -> dict:
    return {
        "assistance_type": "subsistence_allowance", "survey_type": "new", "survey_date": "2025-03-18",
        "head_name": "李桂兰", "head_id_number": id_number("19580312", "124"),
        "phone": "13807312456", "address": "凤凰社区 3 组 12 号", "household_size": 2, "housing": "own",
        "members": [
            {"id": member_id, "name": "李桂兰", "relation": "self", "gender": "female",
             "id_number": id_number("19580312", "124"), "health": "chronic", "work_status": "farming"},
            {"name": "王建国", "relation": "spouse", "gender": "male", "id_number": id_number("19550807", "131"),
             "health": "disabled", "disability_level": "2", "work_status": "unable"},
        ],
        "income": {"wage": 0, "business": 2100, "property": 0, "transfer": 780, "family_support": 1200,
                   "other": 0, "main_source": "farming", "per_capita_monthly": 170},
        "assets": {"deposits": 3000, "securities": 0, "has_vehicle": False, "real_estate_count": 1,
                   "has_business": False, "land_area": 2.5, "livestock_value": 1800},
        "spending": {"medical": 6800, "education": 1200, "rent": 0, "other": 600, "medical_insured": True},
        "poverty_reasons": ["illness"],
        "bank_name": "农村商业银行", "bank_account": "6217995500012345678",
        "worker_opinion": "eligible", "needs_application_help": False,
    }


def id_number(born: str, serial: str, region: str = "430102") -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = region + born + serial
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


# --- Needs and providers -------------------------------------------------------------------------------------------

async def make_provider(*areas: Area, name: str = "阳光助老服务中心", offers: dict[str, int] | None = None) -> Provider:
    """A provider serving the areas, offering each item of `offers` (code → monthly capacity) for free."""
    from server.models import ProviderArea, ProviderOffer

    provider = await Provider.create(name=name)
    await ProviderArea.bulk_create([ProviderArea(provider=provider, area=a) for a in areas])
    await ProviderOffer.bulk_create([ProviderOffer(provider=provider, item=item, monthly_capacity=capacity, free=True,
                                                   contact="0730-8221234", updated_at=now())
                                     for item, capacity in (offers or {}).items()])
    return provider


async def make_need(household: Household, status: str = "raised", *, item: str = "elderly.meal_shopping",
                    provider: Provider | None = None, consent: bool = True, overdue: bool = False, **fields):
    """A need made directly in the given state (the lifecycle has tests of its own)."""
    from server.models import Need

    stamp = now()
    due = fields.pop("due_at", None) or (stamp - timedelta(days=1) if overdue else stamp + timedelta(days=7))
    reached = {s: stamp for s in ("dispatched", "accepted", "started", "done")[:(
        "raised", "dispatched", "accepted", "in_service", "done", "evaluated").index(status)]}
    return await Need.create(household=household, item=item, category=item.split(".")[0],
                             raised_at=fields.pop("raised_at", stamp),
                             due_at=due, status=status, consent=consent, contact="13807312456" if consent else None,
                             provider=provider, updated_at=stamp, **{f"{k}_at": v for k, v in reached.items()},
                             **fields)
