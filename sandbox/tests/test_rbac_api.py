"""Roles: list, permissions, users (offset with the 1,000 cap, and checkpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support.directory_api import TOKEN, big_role, big_sandbox, get, session, walk
from tests.support.recordings import assert_like, body

ROLE_404 = {
    "statusCode": 404,
    "error": "Not Found",
    "message": "The role does not exist.",
    "errorCode": "inexistent_role",
}
PAGING_400 = {
    "statusCode": 400,
    "error": "Bad Request",
    "message": "Requesting page 10 exceeds the allowed maximum of 1000 records. To fetch "
    "results beyond 1000, use the checkpoint pagination method.",
    "errorCode": "invalid_paging",
}


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with big_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def s() -> Iterator[requests.Session]:
    with session() as http:
        yield http


def test_roles_list_shapes_match_recording(big: Sandbox, s: requests.Session) -> None:
    recorded = body("TestRoleManager_List")
    r = get(s, big, "/roles", include_totals="true", per_page=50)
    ours = r.json()
    assert list(ours) == list(recorded)  # roles, start, limit, total (order as recorded)
    assert_like(ours, recorded)
    assert ours["total"] == 6 and ours["start"] == 0 and ours["limit"] == 50
    for role in ours["roles"]:
        assert set(role) == {"id", "name", "description"}
        assert role["id"].startswith("rol_") and len(role["id"]) == 20 and role["id"][4:].isalnum()
    assert len({x["name"] for x in ours["roles"]}) == 6
    bare = get(s, big, "/roles").json()
    assert bare == ours["roles"]
    assert get(s, big, "/roles", page=1, per_page=4).json() == ours["roles"][4:]
    name = ours["roles"][0]["name"]
    filtered = get(s, big, "/roles", name_filter=name.upper()[:4]).json()
    assert ours["roles"][0] in filtered
    assert all(name.upper()[:4].lower() in x["name"] for x in filtered)
    bad = get(s, big, "/roles", per_page=101)
    assert bad.status_code == 400 and bad.json()["errorCode"] == "invalid_query_string"


def test_role_permissions(big: Sandbox, s: requests.Session) -> None:
    truth = big.tenant_truth()
    recorded, recorded_empty = (
        body("TestRoleManager_Permissions", 0),
        body("TestRoleManager_Permissions", 1),
    )
    seen_nonempty = seen_empty = False
    for role in truth["roles"]:
        ours = get(s, big, f"/roles/{role['id']}/permissions", include_totals="true").json()
        assert list(ours) == list(recorded)
        assert ours["permissions"] == truth["role_permissions"][role["id"]]
        assert ours["total"] == len(ours["permissions"])
        if ours["permissions"]:
            seen_nonempty = True
            assert_like(ours, recorded)
            for p in ours["permissions"]:
                assert set(p) == set(recorded["permissions"][0])
        else:
            seen_empty = True
            assert ours == recorded_empty
    assert seen_nonempty
    assert seen_empty or len(truth["roles"]) < 10
    for path in ("/roles/rol_doesnotexist00/permissions", "/roles/rol_doesnotexist00/users"):
        r = get(s, big, path)
        assert (r.status_code, r.json()) == (404, ROLE_404)


def test_role_users_offset_shape_and_cap(big: Sandbox, s: requests.Session) -> None:
    rid = big_role(big)
    recorded = body("TestRoleManager_Users")
    ours = get(s, big, f"/roles/{rid}/users", include_totals="true", per_page=50).json()
    assert list(ours) == list(recorded)
    assert ours["total"] == 1100 and ours["limit"] == 50 and len(ours["users"]) == 50
    with_email = [u for u in ours["users"] if "email" in u]
    assert with_email
    for u in with_email:
        assert set(u) == set(recorded["users"][0])
        assert_like(u, recorded["users"][0])
    last_ok = get(s, big, f"/roles/{rid}/users", page=9, per_page=100)
    assert last_ok.status_code == 200 and len(last_ok.json()) == 100
    capped = get(s, big, f"/roles/{rid}/users", page=10, per_page=100)
    assert (capped.status_code, capped.json()) == (400, PAGING_400)


def test_role_users_checkpoint_walk_over_1000(big: Sandbox, s: requests.Session) -> None:
    rid = big_role(big)
    recorded_first = body("TestRoleManager_UsersCheckpointPagination", 0)
    recorded_last = body("TestRoleManager_UsersCheckpointPagination", 1)
    first = get(s, big, f"/roles/{rid}/users", take=2, include_totals="true", per_page=50)
    assert list(first.json()) == list(recorded_first)  # users, next: paging params ignored
    pages = walk(s, big, f"/roles/{rid}/users", "users", 100)
    assert [len(p) for p in pages] == [100] * 11 + [0], "exactly full: next -> empty page"
    ids = [u["user_id"] for p in pages for u in p]
    assert len(ids) == len(set(ids)) == 1100
    assert [u for p in pages for u in p] == big.tenant_truth()["role_users"][rid]
    # a partial last page has no next (like the recording's last page)
    pages = walk(s, big, f"/roles/{rid}/users", "users", 30)
    assert [len(p) for p in pages] == [30] * 36 + [20]
    assert list(recorded_last) == ["users"]


def test_checkpoint_parameters_are_validated(big: Sandbox, s: requests.Session) -> None:
    rid = big_role(big)
    for params in ({"take": 101}, {"take": "x"}, {"take": 5, "from": "not-a-cursor"}):
        r = get(s, big, f"/roles/{rid}/users", **params)
        assert r.status_code == 400 and r.json()["errorCode"] == "invalid_query_string", params
        assert set(r.json()) == {"statusCode", "error", "message", "errorCode"}


def test_role_scopes(fresh: Any) -> None:
    with fresh(users=50, access_token=TOKEN) as sb, session() as s:
        rid = sb.tenant_truth()["roles"][0]["id"]
        sb.configure(static_scopes="read:users")
        r = get(s, sb, "/roles")
        assert r.status_code == 403
        assert r.json() == {
            "statusCode": 403,
            "error": "Forbidden",
            "message": "Insufficient scope, expected any of: read:roles",
            "errorCode": "insufficient_scope",
        }
        assert get(s, sb, f"/roles/{rid}/permissions").status_code == 403
        assert get(s, sb, f"/roles/{rid}/users").status_code == 200  # read:users is enough
        sb.configure(static_scopes="read:role_members")
        assert get(s, sb, f"/roles/{rid}/users").status_code == 200
        sb.configure(static_scopes="read:organizations")
        r = get(s, sb, f"/roles/{rid}/users")
        assert r.status_code == 403
        assert r.json()["message"] == (
            "Insufficient scope, expected any of: read:users,read:roles,read:role_members"
        )


def test_zero_roles_answer_empty(fresh: Any) -> None:
    with fresh(users=20, roles=0, organizations=0, access_token=TOKEN) as sb, session() as s:
        assert get(s, sb, "/roles").json() == []
        assert get(s, sb, "/roles", include_totals="true").json() == {
            "roles": [],
            "start": 0,
            "limit": 50,
            "total": 0,
        }
        assert get(s, sb, "/organizations").json() == []
        assert get(s, sb, "/organizations", take=10).json() == {"organizations": []}


def test_delete_role_and_user_cascade(fresh: Any) -> None:
    with fresh(users=150, access_token=TOKEN, big_org_members=120) as sb, session() as s:
        truth = sb.tenant_truth()
        # a role some org member holds
        org, member = next(
            (o, m) for o, ms in truth["organization_members"].items() for m in ms if m["roles"]
        )
        rid = member["roles"][0]["id"]
        assert sb.delete_role(rid) and not sb.delete_role(rid)
        assert rid not in {r["id"] for r in get(s, sb, "/roles").json()}
        assert get(s, sb, f"/roles/{rid}/users").status_code == 404
        after = sb.tenant_truth()
        assert all(
            rid not in {x["id"] for x in m["roles"]}
            for ms in after["organization_members"].values()
            for m in ms
        )
        path = f"/organizations/{org}/members/{member['user_id']}/roles"
        assert rid not in {x["id"] for x in get(s, sb, path).json()}
        # deleting a user removes their memberships
        role = next(r for r, us in after["role_users"].items() if us)
        uid = after["role_users"][role][0]["user_id"]
        assert sb.delete_user(uid)
        final = sb.tenant_truth()
        assert uid not in {u["user_id"] for us in final["role_users"].values() for u in us}
        assert uid not in {
            m["user_id"] for ms in final["organization_members"].values() for m in ms
        }
        assert uid not in {u["user_id"] for u in get(s, sb, f"/roles/{role}/users").json()}


def test_create_role_and_add_users(fresh: Any) -> None:
    with fresh(users=30, access_token=TOKEN) as sb, session() as s:
        role = sb.create_role("temp-role", "Temporary")
        uids = [u["user_id"] for u in sb.truth()[:3]]
        assert sb.add_role_users(role["id"], uids) == 3
        assert sb.add_role_users(role["id"], uids[:1]) == 0
        got = get(s, sb, f"/roles/{role['id']}/users", take=10).json()
        assert {u["user_id"] for u in got["users"]} == set(uids) and "next" not in got
        with pytest.raises(KeyError):
            sb.add_role_users(role["id"], ["auth0|nobody"])
        with pytest.raises(ValueError):
            sb.create_role("temp-role")
