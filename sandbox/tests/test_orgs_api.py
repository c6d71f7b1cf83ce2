"""Organizations: list, members (+ roles), member roles, enabled connections, invitations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support.directory_api import TOKEN, big_org, big_sandbox, get, session, walk
from tests.support.recordings import assert_like, body, cursor_id, gets

ORG_404 = {
    "statusCode": 404,
    "error": "Not Found",
    "message": "No organization found by that id or name",
}
ORG_KEYS = {"id", "name", "display_name", "branding", "metadata"}
INVITATION_KEYS = {
    "id",
    "client_id",
    "inviter",
    "invitee",
    "invitation_url",
    "ticket_id",
    "created_at",
    "expires_at",
    "organization_id",
    "roles",
    "connection_id",
    "app_metadata",
    "user_metadata",
}


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with big_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def s() -> Iterator[requests.Session]:
    with session() as http:
        yield http


def test_organizations_offset_and_checkpoint_shapes(big: Sandbox, s: requests.Session) -> None:
    recorded = body("TestOrganizationManager_List")
    ours = get(s, big, "/organizations", include_totals="true", per_page=50).json()
    assert list(ours) == list(recorded)  # organizations, start, limit, total
    assert ours["total"] == 5 and ours["limit"] == 50
    for org in ours["organizations"]:
        assert {"id", "name", "display_name"} <= set(org) <= ORG_KEYS
        assert org["id"].startswith("org_") and len(org["id"]) == 20
        assert org["name"] == org["name"].lower()
        if "branding" in org:
            assert_like(org, recorded["organizations"][0])
    assert any("branding" in o for o in ours["organizations"])
    assert len({o["name"] for o in ours["organizations"]}) == 5
    assert get(s, big, "/organizations").json() == ours["organizations"]

    first, last = (b for _, _, b in gets("TestOrganizationManager_ListCheckpointPagination"))
    page = get(s, big, "/organizations", take=2, include_totals="true", per_page=50).json()
    assert list(page) == list(first)  # organizations, next: include_totals/per_page ignored
    assert cursor_id(page["next"]) == page["organizations"][-1]["id"]
    assert cursor_id(first["next"]) == first["organizations"][-1]["id"]  # as Auth0 does
    pages = walk(s, big, "/organizations", "organizations", 2)
    assert [len(p) for p in pages] == [2, 2, 1] and list(last) == ["organizations"]
    assert [o for p in pages for o in p] == ours["organizations"]
    # exactly full last page: a next that leads to an empty page
    assert [len(p) for p in walk(s, big, "/organizations", "organizations", 5)] == [5, 0]


def test_members_shapes(big: Sandbox, s: requests.Session) -> None:
    oid = big_org(big)
    first = body("TestOrganizationManager_MembersCheckpointPagination", 0)
    empty = body("TestOrganizationManager_MembersCheckpointPagination", 2)
    page = get(s, big, f"/organizations/{oid}/members", take=2).json()
    assert list(page) == list(first)
    cursor_id(page["next"])
    for m in page["members"]:
        assert set(m) <= set(first["members"][0]) and "user_id" in m
        if "email" in m:
            assert set(m) == set(first["members"][0])
            assert_like(m, first["members"][0])
    assert empty == {"members": []}

    with_roles = body("TestOrganizationManager_Members")
    params = {"fields": "user_id,roles", "include_fields": "true", "include_totals": "true"}
    ours = get(s, big, f"/organizations/{oid}/members", **params).json()
    assert list(ours) == list(with_roles)  # members, start, limit, total
    assert ours["total"] == 1050
    assert all(set(m) == {"user_id", "roles"} for m in ours["members"])
    holders = [m for m in ours["members"] if m["roles"]]
    assert holders
    for m in holders:
        assert_like(m, with_roles["members"][0])
        assert all(set(r) == {"id", "name"} for r in m["roles"])
    plain = get(s, big, f"/organizations/{oid}/members", per_page=5).json()
    assert all("roles" not in m for m in plain)
    excluded = get(s, big, f"/organizations/{oid}/members", fields="email", include_fields="false")
    assert all(set(m) <= {"user_id", "picture", "name"} for m in excluded.json())


def test_members_roles_need_member_roles_scope(fresh: Any) -> None:
    with fresh(users=60, access_token=TOKEN, big_org_members=40) as sb, session() as s:
        oid = big_org(sb)
        sb.configure(static_scopes="read:organization_members")
        assert get(s, sb, f"/organizations/{oid}/members").status_code == 200
        r = get(s, sb, f"/organizations/{oid}/members", fields="user_id,roles")
        assert r.status_code == 403
        assert r.json() == {
            "statusCode": 403,
            "error": "Forbidden",
            "message": "Insufficient scope, expected any of: read:organization_member_roles",
            "errorCode": "insufficient_scope",
        }
        sb.configure(static_scopes="read:organization_members read:organization_member_roles")
        r = get(s, sb, f"/organizations/{oid}/members", fields="user_id,roles", take=10)
        assert r.status_code == 200 and all("roles" in m for m in r.json()["members"])
        expected = {
            "/organizations": "read:organizations,read:organizations_summary",
            f"/organizations/{oid}/enabled_connections": "read:organization_connections",
            f"/organizations/{oid}/invitations": "read:organization_invitations",
        }
        for path, scopes in expected.items():
            r = get(s, sb, path)
            assert r.status_code == 403, path
            assert r.json()["message"] == f"Insufficient scope, expected any of: {scopes}"
        sb.configure(static_scopes="read:organizations_summary")
        assert get(s, sb, "/organizations").status_code == 200
        assert get(s, sb, f"/organizations/{oid}/members").status_code == 403


def test_members_offset_cap_and_checkpoint_walk(big: Sandbox, s: requests.Session) -> None:
    oid = big_org(big)
    path = f"/organizations/{oid}/members"
    assert len(get(s, big, path, page=9, per_page=100).json()) == 100
    capped = get(s, big, path, page=10, per_page=100)
    assert capped.status_code == 400 and capped.json()["errorCode"] == "invalid_paging"
    assert capped.json()["message"].startswith("Requesting page 10 exceeds the allowed maximum")
    pages = walk(s, big, path, "members", 100)
    assert [len(p) for p in pages] == [100] * 10 + [50]  # partial last page: no next
    ids = [m["user_id"] for p in pages for m in p]
    assert len(ids) == len(set(ids)) == 1050
    truth = big.tenant_truth()["organization_members"][oid]
    assert ids == [m["user_id"] for m in truth]
    strip = [{k: v for k, v in m.items() if k != "roles"} for m in truth]
    assert [m for p in pages for m in p] == strip


def test_member_roles(big: Sandbox, s: requests.Session) -> None:
    oid = big_org(big)
    recorded, recorded_empty = (b for _, _, b in gets("TestOrganizationManager_MemberRoles"))
    truth = big.tenant_truth()
    members = truth["organization_members"][oid]
    holder = next(m for m in members if m["roles"])
    lacking = next(m for m in members if not m["roles"])
    uid = requests.utils.quote(holder["user_id"], safe="")
    ours = get(s, big, f"/organizations/{oid}/members/{uid}/roles", include_totals="true").json()
    assert list(ours) == list(recorded) and ours["total"] == len(holder["roles"])
    assert_like(ours, recorded)
    assert [{"id": r["id"], "name": r["name"]} for r in ours["roles"]] == holder["roles"]
    assert ours["roles"] == truth["organization_member_roles"][oid][holder["user_id"]]
    uid = requests.utils.quote(lacking["user_id"], safe="")
    empty = get(s, big, f"/organizations/{oid}/members/{uid}/roles", include_totals="true")
    assert empty.json() == recorded_empty


def test_enabled_connections(big: Sandbox, s: requests.Session) -> None:
    recorded = body("TestOrganizationManager_Connections")
    truth = big.tenant_truth()
    conns = {c["id"]: c for c in big.connections}
    seen = 0
    for org in truth["organizations"]:
        path = f"/organizations/{org['id']}/enabled_connections"
        ours = get(s, big, path, include_totals="true").json()
        assert list(ours) == list(recorded)  # enabled_connections, start, limit, total
        assert ours["enabled_connections"] == truth["organization_enabled_connections"][org["id"]]
        assert ours["total"] == len(ours["enabled_connections"]) <= 10
        assert ours["limit"] == len(ours["enabled_connections"])  # as recorded (limit 1)
        for ec in ours["enabled_connections"]:
            seen += 1
            assert_like(ec, recorded["enabled_connections"][0])
            assert set(ec) == set(recorded["enabled_connections"][0]) | {"is_signup_enabled"}
            c = conns[ec["connection_id"]]
            assert ec["connection"] == {"name": c["name"], "strategy": c["strategy"]}
        assert get(s, big, path).json() == ours["enabled_connections"]
    assert seen


def test_invitations_have_no_total(big: Sandbox, s: requests.Session) -> None:
    recorded = body("TestOrganizationManager_Invitations")
    assert "total" not in recorded
    truth = big.tenant_truth()
    seen = 0
    for org in truth["organizations"]:
        path = f"/organizations/{org['id']}/invitations"
        ours = get(s, big, path, include_totals="true").json()
        assert list(ours) == list(recorded)  # invitations, start, limit: never total
        assert ours["invitations"] == truth["organization_invitations"][org["id"]]
        created = [i["created_at"] for i in ours["invitations"]]
        assert created == sorted(created, reverse=True)  # created_at:-1, Auth0's default
        for inv in ours["invitations"]:
            seen += 1
            assert set(recorded["invitations"][0]) <= set(inv) <= INVITATION_KEYS
            assert_like(inv, recorded["invitations"][0])
            assert inv["organization_id"] == org["id"] and inv["id"].startswith("uinv_")
            assert f"invitation={inv['ticket_id']}" in inv["invitation_url"]
            assert f"organization={org['id']}" in inv["invitation_url"]
        assert get(s, big, path).json() == ours["invitations"]
        bad = get(s, big, path, take=10)
        assert bad.status_code == 400
        assert bad.json()["message"] == (
            "Query validation error: 'Additional properties not allowed: take'."
        )
    assert seen


def test_unknown_org_is_404(big: Sandbox, s: requests.Session) -> None:
    for sub in ("members", "members/auth0%7Cx/roles", "enabled_connections", "invitations"):
        r = get(s, big, f"/organizations/org_doesnotexist00/{sub}")
        assert (r.status_code, r.json()) == (404, ORG_404), sub
    r = get(s, big, "/organizations/org_x/unknown")
    assert r.status_code == 404 and r.json()["message"] == "Not Found"


def test_tenant_truth_is_what_the_api_serves(big: Sandbox, s: requests.Session) -> None:
    truth = big.tenant_truth()
    assert get(s, big, "/roles").json() == truth["roles"]
    assert get(s, big, "/organizations").json() == truth["organizations"]
    for org in truth["organizations"]:
        oid = org["id"]
        pages = walk(s, big, f"/organizations/{oid}/members?fields=", "members", 100)
        served = [m for p in pages for m in p]
        assert served == [
            {k: v for k, v in m.items() if k != "roles"} for m in truth["organization_members"][oid]
        ]
        with_roles = walk(
            s, big, f"/organizations/{oid}/members?fields=user_id,roles", "members", 100
        )
        assert [m["roles"] for p in with_roles for m in p] == [
            m["roles"] for m in truth["organization_members"][oid]
        ]
    for role in truth["roles"]:
        pages = walk(s, big, f"/roles/{role['id']}/users", "users", 100)
        assert [u for p in pages for u in p] == truth["role_users"][role["id"]]


def test_delete_org_and_admin_http(fresh: Any) -> None:
    with fresh(users=80, access_token=TOKEN) as sb, session() as s:
        admin = f"{sb.base_url}/_sandbox"
        assert requests.get(f"{admin}/tenant-truth").json() == sb.tenant_truth()
        made = requests.post(f"{admin}/organizations", json={"name": "newco", "display_name": "N"})
        assert made.status_code == 201
        oid = made.json()["id"]
        assert oid.startswith("org_") and made.json()["display_name"] == "N"
        uids = [u["user_id"] for u in sb.truth()[:4]]
        added = requests.post(f"{admin}/organizations/{oid}/members", json={"members": uids})
        assert added.json() == {"added": 4}
        assert (
            requests.post(
                f"{admin}/organizations/{oid}/members", json={"members": ["auth0|nobody"]}
            ).status_code
            == 404
        )
        role = requests.post(f"{admin}/roles", json={"name": "ops", "description": "Ops"}).json()
        assert role["id"].startswith("rol_")
        quoted = requests.utils.quote(uids[0], safe="")
        assigned = requests.post(
            f"{admin}/organizations/{oid}/members/{quoted}/roles", json={"roles": [role["id"]]}
        )
        assert assigned.json() == {"roles": [role["id"]]}
        r = requests.post(f"{admin}/roles/{role['id']}/users", json={"users": uids[:2]})
        assert r.json() == {"added": 2}
        members = get(s, sb, f"/organizations/{oid}/members", fields="user_id,roles").json()
        assert {m["user_id"]: m["roles"] for m in members}[uids[0]] == [
            {"id": role["id"], "name": "ops"}
        ]
        assert requests.delete(f"{admin}/roles/{role['id']}").status_code == 204
        members = get(s, sb, f"/organizations/{oid}/members", fields="user_id,roles").json()
        assert all(m["roles"] == [] for m in members)
        assert requests.delete(f"{admin}/organizations/{oid}").status_code == 204
        assert requests.delete(f"{admin}/organizations/{oid}").status_code == 404
        assert get(s, sb, f"/organizations/{oid}/members").status_code == 404
        assert oid not in {o["id"] for o in get(s, sb, "/organizations").json()}
        victim = sb.tenant_truth()["organizations"][0]["id"]
        assert sb.delete_organization(victim) and not sb.delete_organization(victim)
        assert victim not in sb.tenant_truth()["organization_members"]
        assert requests.post(f"{admin}/roles", json={"nope": 1}).status_code == 400
