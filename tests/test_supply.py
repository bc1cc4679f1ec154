"""The catalogue kept by admins, providers and their supply list kept by their own users, and matching a need with
the providers that can take it, ranked by their record with reasons."""

from datetime import timedelta

import forms
from factories import (assert_problem, headers_for, make_district, make_household, make_need, make_provider,
                       make_user)
from server.models import CatalogueItem, NeedEvent
from server.ops import builtins
from server.surveys.catalogue import load_catalogue

ITEM = "elderly.meal_shopping"


async def test_an_admin_adds_renames_and_retires_items_but_not_one_in_use(client, settings):
    await load_catalogue(forms.catalogue())
    admin = await headers_for(settings, await make_user("admin"))
    body = {"code": "elderly.foot_care", "name": "足部护理", "category": "elderly", "days": {"urgent": 1}}
    added = await client.post("/api/v1/catalogue/items", json=body, headers=admin)
    assert added.status_code == 201, added.text
    assert added.json()["days"] == {"normal": 30, "high": 7, "urgent": 1}
    assert_problem(await client.post("/api/v1/catalogue/items", json=body, headers=admin), 409)
    assert_problem(await client.post("/api/v1/catalogue/items", json=body | {"category": "nope"}, headers=admin),
                   422, "/category")
    renamed = await client.patch("/api/v1/catalogue/items/elderly.foot_care", json={"name": "足部护理服务"},
                                 headers=admin)
    assert renamed.json()["name"] == "足部护理服务"

    district = await make_district()
    need = await make_need(await make_household(district.east_a), item=ITEM)
    problem = assert_problem(await client.patch(f"/api/v1/catalogue/items/{ITEM}", json={"retired": True},
                                                headers=admin), 409)
    assert "未办结的需求" in problem["detail"]
    await need.__class__.filter(id=need.id).update(status="closed")
    provider = await make_provider(district.east, offers={ITEM: 3})
    assert_problem(await client.patch(f"/api/v1/catalogue/items/{ITEM}", json={"retired": True}, headers=admin), 409)
    await provider.offers.all().delete()
    retired = await client.patch(f"/api/v1/catalogue/items/{ITEM}", json={"retired": True}, headers=admin)
    assert retired.status_code == 200 and retired.json()["retired"] is True
    # Still readable, and no longer offered to new needs.
    catalogue = (await client.get("/api/v1/catalogue", headers=admin)).json()["items"]
    shown = {i["code"]: i for c in catalogue for i in c["items"]}
    assert shown[ITEM]["retired"] is True and shown[ITEM]["name"] == "代买助餐"
    old = (await client.get(f"/api/v1/needs/{need.id}", headers=admin)).json()  # the closed need still names it
    assert (old["item"], old["item_name"]) == (ITEM, "代买助餐")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    household = await make_household(district.east_a)
    assert_problem(await client.post("/api/v1/needs", json={"household": str(household.id), "item": ITEM},
                                     headers=worker), 422, "/item")
    assert await CatalogueItem.filter(code=ITEM).exists()
    assert_problem(await client.patch("/api/v1/catalogue/items/no.such", json={"name": "无"}, headers=admin), 404)
    assert_problem(await client.patch(f"/api/v1/catalogue/items/{ITEM}", json={"name": "x"}, headers=worker), 403)


async def test_loading_the_built_ins_again_adds_what_is_new_and_keeps_what_the_admin_changed(client, settings):
    """`doorstep load-builtins` runs at every upgrade: it adds the built-in categories and items it does not find, and
    leaves the others as the admin left them (renamed, retired, re-timed), the admin's own items too."""
    await builtins.load_builtins()
    admin = await headers_for(settings, await make_user("admin"))
    changes = {ITEM: {"name": "助餐配送", "days": {"normal": 10}}, "child.after_school": {"retired": True}}
    for code, body in changes.items():
        response = await client.patch(f"/api/v1/catalogue/items/{code}", json=body, headers=admin)
        assert response.status_code == 200, response.text
    body = {"code": "elderly.foot_care", "name": "足部护理", "category": "elderly"}
    assert (await client.post("/api/v1/catalogue/items", json=body, headers=admin)).status_code == 201

    async def catalogue() -> list[dict]:
        return (await client.get("/api/v1/catalogue", headers=admin)).json()["items"]

    before = await catalogue()
    assert "服务目录：新增 0 项" in await builtins.load_builtins()
    assert await catalogue() == before
    shown = {i["code"]: i for c in before for i in c["items"]}
    assert (shown[ITEM]["name"], shown[ITEM]["days"]["normal"]) == ("助餐配送", 10)
    assert shown["child.after_school"]["retired"] is True

    # A later release ships a new item in a category the admin added to, and a new category.
    shipped = forms.catalogue()
    next(c for c in shipped if c["code"] == "elderly")["items"].append({"code": "elderly.day_trip", "name": "结伴出游"})
    shipped.append({"code": "volunteering", "name": "志愿服务", "items": [{"code": "volunteering.time_bank",
                                                                           "name": "时间银行"}]})
    assert await load_catalogue(shipped) == 3
    after = await catalogue()
    assert after[:-1] == [c | {"items": c["items"] + ([{"code": "elderly.day_trip", "name": "结伴出游",
                                                        "category": "elderly", "retired": False,
                                                        "days": {"normal": 30, "high": 7, "urgent": 2}}]
                                                      if c["code"] == "elderly" else [])} for c in before]
    assert (after[-1]["name"], [i["name"] for i in after[-1]["items"]]) == ("志愿服务", ["时间银行"])
    assert [i["code"] for i in after[1]["items"]][-2:] == ["elderly.foot_care", "elderly.day_trip"]
    assert await load_catalogue(shipped) == 0 and await catalogue() == after


async def test_providers_are_made_by_admins_and_keep_their_own_offers(client, settings):
    await load_catalogue(forms.catalogue())
    district = await make_district()
    admin = await headers_for(settings, await make_user("admin"))
    response = await client.post("/api/v1/providers", json={"name": "凌云志愿服务队", "areas": [str(district.east.id)]},
                                 headers=admin)
    assert response.status_code == 201, response.text
    provider = response.json()
    assert provider["areas"] == [str(district.east.id)] and provider["users"] == []
    user = await make_user("provider", provider=await make_provider(name="占位"))
    user.provider_id = provider["id"]
    await user.save()
    own = await headers_for(settings, user)
    other = await headers_for(settings, await make_user("provider"))
    offers = {"offers": [{"item": ITEM, "monthly_capacity": 20, "free": True, "contact": "0730-8221234"},
                         {"item": "elderly.cleaning", "monthly_capacity": 5, "free": False, "price": "每次 30 元",
                          "contact": "0730-8221234"}]}
    url = f"/api/v1/providers/{provider['id']}/offers"
    assert_problem(await client.put(url, json=offers, headers=other), 404)
    assert_problem(await client.get(url, headers=other), 404)  # nor reads another's supply list
    saved = await client.put(url, json=offers, headers=own)
    assert saved.status_code == 200, saved.text
    assert [(o["item"], o["taken_this_month"]) for o in saved.json()["items"]] == [
        ("elderly.cleaning", 0), (ITEM, 0)]
    bad = {"offers": [{"item": "no.such", "monthly_capacity": 1, "free": False, "contact": "x"},
                      {"item": ITEM, "monthly_capacity": 1, "free": True, "contact": "x"},
                      {"item": ITEM, "monthly_capacity": 1, "free": True, "contact": "x"}]}
    assert_problem(await client.put(url, json=bad, headers=own), 422, "/offers/0/item", "/offers/0/price",
                   "/offers/2/item")
    assert len((await client.get(url, headers=own)).json()["items"]) == 2  # nothing half-written
    listed = (await client.get("/api/v1/providers", headers=own)).json()["items"]
    assert [p["id"] for p in listed] == [provider["id"]] and listed[0]["users"][0]["username"] == user.username
    west = await headers_for(settings, await make_user("supervisor", district.west))
    assert (await client.get("/api/v1/providers", headers=west)).json()["items"] == []
    assert_problem(await client.get(url, headers=west), 404)
    east = await headers_for(settings, await make_user("worker", district.east_a))
    assert [p["id"] for p in (await client.get("/api/v1/providers", headers=east)).json()["items"]] == [provider["id"]]
    assert_problem(await client.post("/api/v1/providers", json={"name": "x", "areas": [str(district.east.id)]},
                                     headers=own), 403)


async def test_matches_rank_providers_that_can_take_the_need_by_their_record(client, settings):
    await load_catalogue(forms.catalogue())
    district = await make_district()
    household = await make_household(district.east_a)
    need = await make_need(household, item=ITEM)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    good = await make_provider(district.east, name="甲：记录好", offers={ITEM: 5})
    await make_provider(district.east_a, name="乙：新机构", offers={ITEM: 5})
    poor = await make_provider(district.county, name="丙：常拒单", offers={ITEM: 5})
    await make_provider(district.west, name="丁：不服务此社区", offers={ITEM: 5})
    await make_provider(district.east_a, name="戊：不提供此项目", offers={"elderly.cleaning": 5})
    full = await make_provider(district.east_a, name="己：名额已满", offers={ITEM: 1})
    await make_need(household, "dispatched", item=ITEM, provider=full)
    for provider, answers, rating, days in ((good, ["accept"] * 4, 5, 2), (poor, ["decline"] * 3 + ["accept"], 2, 20)):
        done = await make_need(household, "evaluated", item=ITEM, provider=provider, rating=rating)
        await done.__class__.filter(id=done.id).update(dispatched_at=done.done_at - timedelta(days=days))
        for action in answers:
            await NeedEvent.create(need=done, action=action, to_status="accepted", actor_name="p", provider=provider,
                                   at=done.done_at)
    response = await client.get(f"/api/v1/needs/{need.id}/matches", headers=supervisor)
    assert response.status_code == 200, response.text
    ranked = response.json()["items"]
    assert [m["provider_name"] for m in ranked] == ["甲：记录好", "乙：新机构", "丙：常拒单"]
    best = ranked[0]
    assert best["acceptance_rate"] == 1.0 and best["median_days_to_done"] == 2 and best["mean_rating"] == 5
    assert any("接单率 100%" in r for r in best["reasons"])
    assert any(f"本月还可接 {best['capacity_left']} 单" in r for r in best["reasons"])
    assert any("按中等计" in r for r in ranked[1]["reasons"])
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.get(f"/api/v1/needs/{need.id}/matches", headers=worker), 403)
    west = await headers_for(settings, await make_user("supervisor", district.west))
    assert_problem(await client.get(f"/api/v1/needs/{need.id}/matches", headers=west), 404)
