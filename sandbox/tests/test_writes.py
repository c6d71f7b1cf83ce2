"""Management API mutations on the sandbox: each changes what the read routes and the ground
truth answer, with Auth0's status codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support import sandbox_instances as support


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with support.fresh_sandbox(users=120, seed=11) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def s() -> Iterator[requests.Session]:
    with support.api_session() as session:
        yield session


def call(s: requests.Session, sb: Sandbox, method: str, path: str, body: Any = None) -> Any:
    r = s.request(method, f"{sb.base_url}/api/v2{path}", json=body)
    return r


def get(s: requests.Session, sb: Sandbox, path: str) -> Any:
    r = s.get(f"{sb.base_url}/api/v2{path}")
    assert r.status_code == 200, r.text
    return r.json()


def q(user_id: str) -> str:
    return quote(user_id, safe="")


def _user_with(sb: Sandbox, kind: str) -> str:
    return next(iter(sb.per_user_truth()[f"user_{kind}"]))


# -- users ------------------------------------------------------------------------------------
def test_delete_user_leaves_roles_and_orgs(s: requests.Session, sb: Sandbox) -> None:
    truth = sb.tenant_truth()
    rid, members = next((r, m) for r, m in truth["role_users"].items() if m)
    uid = members[0]["user_id"]
    assert call(s, sb, "DELETE", f"/users/{q(uid)}").status_code == 204
    assert call(s, sb, "GET", f"/users/{q(uid)}").status_code == 404
    assert uid not in {u["user_id"] for u in sb.truth()}
    after = sb.tenant_truth()
    assert uid not in {u["user_id"] for u in after["role_users"][rid]}
    assert all(
        uid not in {m["user_id"] for m in ms} for ms in after["organization_members"].values()
    )


def test_patch_user_blocks_and_sets_updated_at(s: requests.Session, sb: Sandbox) -> None:
    user = sb.truth()[3]
    r = call(s, sb, "PATCH", f"/users/{q(user['user_id'])}", {"blocked": True})
    assert r.status_code == 200 and r.json()["blocked"] is True
    assert r.json()["updated_at"] > user["updated_at"]
    assert get(s, sb, f"/users/{q(user['user_id'])}")["blocked"] is True


def test_user_roles_assign_and_remove(s: requests.Session, sb: Sandbox) -> None:
    uid = sb.truth()[5]["user_id"]
    role = sb.create_role("writers-test", log=False)
    path = f"/users/{q(uid)}/roles"
    assert call(s, sb, "POST", path, {"roles": [role["id"]]}).status_code == 204
    assert uid in {u["user_id"] for u in sb.tenant_truth()["role_users"][role["id"]]}
    assert call(s, sb, "DELETE", path, {"roles": [role["id"]]}).status_code == 204
    assert sb.tenant_truth()["role_users"][role["id"]] == []


def test_user_permissions_assign_and_remove(s: requests.Session, sb: Sandbox) -> None:
    uid = sb.truth()[6]["user_id"]
    rs = sb.tenant_truth()["resource_servers"][0]
    perm = {"resource_server_identifier": rs["identifier"], "permission_name": "read:orders"}
    path = f"/users/{q(uid)}/permissions"
    assert call(s, sb, "POST", path, {"permissions": [perm]}).status_code == 201
    names = {p["permission_name"] for p in get(s, sb, path)}
    assert "read:orders" in names
    assert "read:orders" in {
        p["permission_name"] for p in sb.per_user_truth()["user_permissions"][uid]
    }
    assert call(s, sb, "DELETE", path, {"permissions": [perm]}).status_code == 204
    assert "read:orders" not in {p["permission_name"] for p in get(s, sb, path)}


def test_authentication_methods_delete_one_then_all(s: requests.Session, sb: Sandbox) -> None:
    uid = _user_with(sb, "authentication_methods")
    path = f"/users/{q(uid)}/authentication-methods"
    before = get(s, sb, path)
    first = before[0]["id"]
    assert call(s, sb, "DELETE", f"{path}/{quote(first, safe='')}").status_code == 204
    assert [m["id"] for m in get(s, sb, path)] == [m["id"] for m in before[1:]]
    assert call(s, sb, "DELETE", path).status_code == 204
    assert get(s, sb, path) == []
    assert uid not in sb.per_user_truth()["user_authentication_methods"]


def test_sessions_and_refresh_tokens_revoked(s: requests.Session, sb: Sandbox) -> None:
    uid = _user_with(sb, "sessions")
    assert call(s, sb, "DELETE", f"/users/{q(uid)}/sessions").status_code == 202
    assert get(s, sb, f"/users/{q(uid)}/sessions")["sessions"] == []
    uid = _user_with(sb, "refresh_tokens")
    assert call(s, sb, "DELETE", f"/users/{q(uid)}/refresh-tokens").status_code == 202
    assert get(s, sb, f"/users/{q(uid)}/refresh-tokens")["tokens"] == []
    uid, sessions = next(iter(sb.per_user_truth()["user_sessions"].items()))
    assert call(s, sb, "DELETE", f"/sessions/{sessions[0]['id']}").status_code == 202
    left = [x["id"] for x in sb.per_user_truth()["user_sessions"].get(uid, [])]
    assert sessions[0]["id"] not in left and left == [x["id"] for x in sessions[1:]]


# -- roles ------------------------------------------------------------------------------------
def test_role_lifecycle(s: requests.Session, sb: Sandbox) -> None:
    r = call(s, sb, "POST", "/roles", {"name": "auditors", "description": "Audit"})
    assert r.status_code == 200
    rid = r.json()["id"]
    assert call(s, sb, "PATCH", f"/roles/{rid}", {"name": "auditors-2"}).json()["name"] == (
        "auditors-2"
    )
    assert {"id": rid, "name": "auditors-2", "description": "Audit"} in sb.tenant_truth()["roles"]
    uid = sb.truth()[7]["user_id"]
    assert call(s, sb, "POST", f"/roles/{rid}/users", {"users": [uid]}).status_code == 200
    assert [u["user_id"] for u in get(s, sb, f"/roles/{rid}/users")] == [uid]
    rs = sb.tenant_truth()["resource_servers"][1]
    perm = {"resource_server_identifier": rs["identifier"], "permission_name": "read:reports"}
    ppath = f"/roles/{rid}/permissions"
    assert call(s, sb, "POST", ppath, {"permissions": [perm]}).status_code == 201
    assert [p["permission_name"] for p in get(s, sb, ppath)] == ["read:reports"]
    assert call(s, sb, "DELETE", ppath, {"permissions": [perm]}).status_code == 204
    assert get(s, sb, ppath) == []
    assert call(s, sb, "DELETE", f"/roles/{rid}").status_code == 200
    assert rid not in {r["id"] for r in sb.tenant_truth()["roles"]}


# -- organizations ----------------------------------------------------------------------------
def test_organization_lifecycle(s: requests.Session, sb: Sandbox) -> None:
    r = call(s, sb, "POST", "/organizations", {"name": "acme-test"})
    assert r.status_code == 201
    oid = r.json()["id"]
    r = call(s, sb, "PATCH", f"/organizations/{oid}", {"display_name": "Acme Renamed"})
    assert r.status_code == 200
    org = next(o for o in sb.tenant_truth()["organizations"] if o["id"] == oid)
    assert org["display_name"] == "Acme Renamed"
    uid = sb.truth()[8]["user_id"]
    role = sb.tenant_truth()["roles"][0]["id"]
    mpath = f"/organizations/{oid}/members"
    assert call(s, sb, "POST", mpath, {"members": [uid]}).status_code == 204
    rpath = f"{mpath}/{q(uid)}/roles"
    assert call(s, sb, "POST", rpath, {"roles": [role]}).status_code == 204
    assert [x["id"] for x in get(s, sb, rpath)] == [role]
    assert call(s, sb, "DELETE", rpath, {"roles": [role]}).status_code == 204
    assert get(s, sb, rpath) == []
    assert call(s, sb, "DELETE", mpath, {"members": [uid]}).status_code == 204
    assert sb.tenant_truth()["organization_members"][oid] == []
    conn = sb.connections[0]["id"]
    cpath = f"/organizations/{oid}/enabled_connections"
    body = {"connection_id": conn, "assign_membership_on_login": True}
    r = call(s, sb, "POST", cpath, body)
    assert r.status_code == 201 and r.json()["assign_membership_on_login"] is True
    assert [c["connection_id"] for c in get(s, sb, cpath)] == [conn]
    assert call(s, sb, "DELETE", f"{cpath}/{conn}").status_code == 204
    assert sb.tenant_truth()["organization_enabled_connections"][oid] == []
    client = sb.tenant_truth()["clients"][0]["client_id"]
    ipath = f"/organizations/{oid}/invitations"
    invite = {"client_id": client, "inviter": {"name": "Ann"}, "invitee": {"email": "b@x.io"}}
    r = call(s, sb, "POST", ipath, invite)
    assert r.status_code == 201
    inv = r.json()["id"]
    assert [i["id"] for i in sb.tenant_truth()["organization_invitations"][oid]] == [inv]
    assert call(s, sb, "DELETE", f"{ipath}/{inv}").status_code == 204
    assert sb.tenant_truth()["organization_invitations"][oid] == []
    assert call(s, sb, "DELETE", f"/organizations/{oid}").status_code == 204
    assert oid not in {o["id"] for o in sb.tenant_truth()["organizations"]}


# -- clients and connections ------------------------------------------------------------------
def test_client_lifecycle_and_delete_cascade(s: requests.Session, sb: Sandbox) -> None:
    r = call(s, sb, "POST", "/clients", {"name": "New App", "app_type": "spa"})
    assert r.status_code == 201
    new = r.json()["client_id"]
    r = call(s, sb, "PATCH", f"/clients/{new}", {"description": "changed"})
    assert r.status_code == 200 and r.json()["description"] == "changed"
    truth = sb.tenant_truth()
    victim = next(g["client_id"] for g in truth["client_grants"])
    conn = sb.connections[1]["id"]
    cpath = f"/connections/{conn}/clients"
    body = [{"client_id": victim, "status": True}]
    assert call(s, sb, "PATCH", cpath, body).status_code == 204
    assert victim in {c["client_id"] for c in get(s, sb, cpath)["clients"]}
    assert call(s, sb, "DELETE", f"/clients/{victim}").status_code == 204
    after = sb.tenant_truth()
    assert victim not in {c["client_id"] for c in after["clients"]}
    assert victim not in {g["client_id"] for g in after["client_grants"]}
    assert all(victim not in c["enabled_clients"] for c in after["connections"])
    assert all(
        victim not in {x["client_id"] for x in v} for v in after["connection_clients"].values()
    )


def test_connection_patch_and_delete(s: requests.Session, sb: Sandbox) -> None:
    conn = sb.connections[2]["id"]
    client = sb.tenant_truth()["clients"][0]["client_id"]
    r = call(s, sb, "PATCH", f"/connections/{conn}", {"enabled_clients": [client]})
    assert r.status_code == 200 and r.json()["enabled_clients"] == [client]
    assert [c["client_id"] for c in get(s, sb, f"/connections/{conn}/clients")["clients"]] == [
        client
    ]
    r = call(s, sb, "DELETE", f"/connections/{conn}")
    assert r.status_code == 202 and "deleted_at" in r.json()
    assert conn not in {c["id"] for c in get(s, sb, "/connections")}
    assert all(
        conn not in {c["connection_id"] for c in v}
        for v in sb.tenant_truth()["organization_enabled_connections"].values()
    )


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/users/auth0%7Cnope", None),
        ("PATCH", "/roles/rol_nope", {"name": "x"}),
        ("DELETE", "/organizations/org_nope", None),
        ("DELETE", "/clients/nope", None),
        ("PATCH", "/connections/con_nope", {}),
    ],
)
def test_unknown_ids_are_404(
    s: requests.Session, sb: Sandbox, method: str, path: str, body: Any
) -> None:
    r = call(s, sb, method, path, body)
    assert r.status_code == 404
    assert set(r.json()) == {"statusCode", "error", "message", "errorCode"}


def test_bad_bodies_are_400(s: requests.Session, sb: Sandbox) -> None:
    rid = sb.tenant_truth()["roles"][0]["id"]
    r = call(s, sb, "POST", f"/roles/{rid}/users", {"members": ["x"]})
    assert r.status_code == 400 and r.json()["errorCode"] == "invalid_body"
    r = s.post(f"{sb.base_url}/api/v2/roles", data=b"{not json")
    assert r.status_code == 400
