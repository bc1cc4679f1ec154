from factories import PASSWORD, assert_problem, headers_for, make_area, make_district, make_user


async def test_logins_and_changes_are_in_the_audit_log(client, settings):
    district = await make_district()
    admin = await make_user("admin", username="boss")
    await client.post("/api/v1/auth/token", json={"username": "boss", "password": "wrong-wrong"})
    await client.post("/api/v1/auth/token", json={"username": "boss", "password": PASSWORD})
    headers = await headers_for(settings, admin)
    created = await client.post("/api/v1/users", headers=headers, json={
        "username": "lihua", "password": "a long password", "display_name": "李华", "role": "worker",
        "areas": [str(district.east_a.id)]})
    await client.patch(f"/api/v1/areas/{district.east_a.id}", json={"name": "白竹亭新社区"}, headers=headers)
    events = (await client.get("/api/v1/audit", headers=headers)).json()["items"]
    actions = [e["action"] for e in events]
    assert actions[:4] == ["area.updated", "user.created", "login", "login.failed"]
    assert events[0]["detail"] == {"changes": {"name": ["白竹亭社区", "白竹亭新社区"]}}
    assert events[1]["target_id"] == created.json()["id"]
    assert events[3]["actor"] is None and events[3]["actor_name"] == "boss" and events[3]["address"]
    only_logins = (await client.get("/api/v1/audit", params={"action": "login"}, headers=headers)).json()["items"]
    assert {e["action"] for e in only_logins} == {"login"}
    by_actor = (await client.get("/api/v1/audit", params={"actor": str(admin.id)}, headers=headers)).json()["items"]
    assert {e["actor"] for e in by_actor} == {str(admin.id)}
    assert_problem(await client.get("/api/v1/audit", params={"actor": "x"}, headers=headers), 422, "/actor")


async def test_bureau_reads_the_events_of_its_county_only(client, settings):
    district = await make_district()
    other = await make_area("county", name="君山区")
    home_worker = await make_user("worker", district.east_a)
    away_worker = await make_user("worker", await make_area("community", await make_area("township", other)))
    for worker in (home_worker, away_worker):
        await client.post("/api/v1/auth/logout", headers=await headers_for(settings, worker))
    events = (await client.get("/api/v1/audit", headers=await headers_for(settings, await make_user("bureau", district.county)))).json()
    assert {e["actor"] for e in events["items"]} == {str(home_worker.id)}


async def test_supervisors_workers_and_providers_cannot_read_the_audit_log(client, settings):
    district = await make_district()
    for user in (await make_user("supervisor", district.east), await make_user("worker", district.east_a), await make_user("provider")):
        assert_problem(await client.get("/api/v1/audit", headers=await headers_for(settings, user)), 403)
