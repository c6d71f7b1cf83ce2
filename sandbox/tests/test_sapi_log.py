"""Every change to the sandbox's tenant is logged as Auth0 logs it: one ``sapi`` per successful
Management API call (``fapi`` per failed one), ``sdu`` for a deleted user, and
``gd_enrollment_complete`` for an MFA enrolment; a later ``GET /logs?from=`` returns them in
order, shaped like the go-auth0 recordings, with no secret in any body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
import yaml
from auth0_sandbox import Sandbox

from tests.support import sandbox_instances as support
from tests.support.recordings import GO


def _recorded_sapi() -> list[dict[str, Any]]:
    out = []
    for name in ("TestLogManager_Search", "TestLogManager_CheckpointPagination"):
        for i in yaml.safe_load((GO / f"{name}.yaml").read_text())["interactions"]:
            answer = json.loads(i["response"]["body"] or "null")
            for e in answer if isinstance(answer, list) else [answer]:
                if isinstance(e, dict) and e.get("type") == "sapi":
                    out.append(e)
    return out


RECORDED = _recorded_sapi()


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with support.fresh_sandbox(users=80, seed=3) as sandbox:
        yield sandbox


@pytest.fixture
def s() -> Iterator[requests.Session]:
    with support.api_session() as session:
        yield session


def _since(s: requests.Session, sb: Sandbox, checkpoint: str) -> list[dict[str, Any]]:
    r = s.get(f"{sb.base_url}/api/v2/logs", params={"from": checkpoint, "take": 100})
    assert r.status_code == 200
    return r.json()


def _checkpoint(sb: Sandbox) -> str:
    held = sb.logs_truth()
    return held[-1]["log_id"] if held else "0"


def test_recorded_shapes_are_loaded() -> None:
    assert {e["description"] for e in RECORDED} >= {"Delete a User", "Create an Organization"}


def test_api_call_logs_one_sapi_like_the_recordings(s: requests.Session, sb: Sandbox) -> None:
    start = _checkpoint(sb)
    org = sb.tenant_truth()["organizations"][0]["id"]
    uid = sb.truth()[0]["user_id"]
    body = {"members": [uid]}
    r = s.post(f"{sb.base_url}/api/v2/organizations/{org}/members", json=body)
    assert r.status_code == 204
    [e] = _since(s, sb, start)
    recorded = next(x for x in RECORDED if x["description"] == "Add members to an organization")
    assert set(e) == set(recorded)
    assert set(e["details"]) == set(recorded["details"])
    assert set(e["details"]["request"]) == set(recorded["details"]["request"])
    assert set(e["details"]["request"]["auth"]) == set(recorded["details"]["request"]["auth"])
    assert set(e["details"]["response"]) == set(recorded["details"]["response"])
    assert e["type"] == "sapi" and e["description"] == "Add members to an organization"
    req = e["details"]["request"]
    assert (req["method"], req["path"], req["body"]) == (
        "post",
        f"/api/v2/organizations/{org}/members",
        body,
    )
    assert req["channel"] == "api" and req["auth"]["strategy"] == "jwt"
    assert e["details"]["response"] == {"statusCode": 204, "body": {}}
    assert e["client_id"] == sb.config.client_id and e["client_name"] == ""
    assert e["user_id"] is None and e["_id"] == e["log_id"]


def test_events_arrive_in_call_order(s: requests.Session, sb: Sandbox) -> None:
    start = _checkpoint(sb)
    base = f"{sb.base_url}/api/v2"
    r = s.post(f"{base}/organizations", json={"name": "ordered"})
    oid = r.json()["id"]
    s.patch(f"{base}/organizations/{oid}", json={"name": "ordered-2", "display_name": "O2"})
    s.delete(f"{base}/organizations/{oid}")
    got = [(e["description"], e["details"]["response"]["statusCode"]) for e in _since(s, sb, start)]
    assert got == [
        ("Create an Organization", 201),
        ("Update an Organization", 200),
        ("Delete organization", 204),
    ]


def test_user_delete_logs_sdu_and_sapi(s: requests.Session, sb: Sandbox) -> None:
    start = _checkpoint(sb)
    user = sb.truth()[1]
    r = s.delete(f"{sb.base_url}/api/v2/users/{quote(user['user_id'], safe='')}")
    assert r.status_code == 204
    sdu, sapi = _since(s, sb, start)
    assert sdu["type"] == "sdu" and sdu["user_id"] == user["user_id"]
    assert sdu["connection"] == user["identities"][0]["connection"]
    assert sdu["user_name"] and sdu["description"].startswith("user_id: ")
    recorded = next(x for x in RECORDED if x["description"] == "Delete a User")
    assert set(sapi) == set(recorded) and sapi["description"] == "Delete a User"
    assert sapi["details"]["request"]["path"] == recorded["details"]["request"]["path"].replace(
        "auth0%7C654e0f2209d0e266cf0aa508", quote(user["user_id"], safe="")
    )
    assert sapi["details"]["request"]["body"] is None  # as recorded: no body sent


def test_failed_calls_log_fapi(s: requests.Session, sb: Sandbox) -> None:
    start = _checkpoint(sb)
    r = s.delete(f"{sb.base_url}/api/v2/roles/rol_missing")
    assert r.status_code == 404
    [e] = _since(s, sb, start)
    assert e["type"] == "fapi" and e["description"] == "Delete a role"
    assert e["details"]["response"] == {"statusCode": 404, "body": r.json()}


def test_missing_scope_is_403_and_logged(s: requests.Session, sb: Sandbox) -> None:
    sb.configure(static_scopes="read:users read:roles read:logs")
    start = _checkpoint(sb)
    uid = sb.truth()[2]["user_id"]
    r = s.delete(f"{sb.base_url}/api/v2/users/{quote(uid, safe='')}")
    assert r.status_code == 403 and r.json()["errorCode"] == "insufficient_scope"
    assert "delete:users" in r.json()["message"]
    assert sb.store.get(uid) is not None
    [e] = _since(s, sb, start)
    assert e["type"] == "fapi" and e["details"]["response"]["statusCode"] == 403


def test_default_token_can_write(sb: Sandbox) -> None:
    r = requests.post(
        f"{sb.base_url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": sb.config.client_id,
            "client_secret": sb.config.client_secret,
            "audience": sb.audience,
        },
    )
    token = r.json()["access_token"]
    assert {"delete:users", "update:roles", "delete:clients"} <= set(r.json()["scope"].split())
    role = sb.tenant_truth()["roles"][0]["id"]
    r = requests.patch(
        f"{sb.base_url}/api/v2/roles/{role}",
        json={"description": "renamed"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200


def test_secrets_never_logged(s: requests.Session, sb: Sandbox) -> None:
    secrets = set(sb.planted_secrets())
    base = f"{sb.base_url}/api/v2"
    client = sb.tenant_truth()["clients"][0]
    conn = next(c for c in sb.connections if c["strategy"] == "auth0")
    fresh_secret = f"{sb.config.secret_marker}_new_secret"
    s.patch(f"{base}/clients/{client['client_id']}", json={"client_secret": fresh_secret})
    s.patch(f"{base}/connections/{conn['id']}", json={"options": conn["options"]})
    s.post(f"{base}/clients", json={"name": "Leaky", "client_secret": fresh_secret})
    s.delete(f"{base}/clients/{client['client_id']}")
    sb.create_user(email="pw@example.com", password=f"{sb.config.secret_marker}pw")
    text = json.dumps(sb.logs_truth())
    assert sb.logs_truth()
    assert not [x for x in secrets | {fresh_secret} if x in text]
    assert sb.config.secret_marker not in text
    assert '"client_secret": "*****"' in text and '"password": "*****"' in text


def test_admin_changes_log_the_same_events(sb: Sandbox) -> None:
    start = len(sb.logs_truth())
    uid = sb.truth()[4]["user_id"]
    role = sb.create_role("from-admin", "Admin made")
    sb.add_role_users(role["id"], [uid])
    org = sb.create_organization("admin-org")
    sb.change_organization_members(org["id"], [uid], add=True)
    sb.change_member_roles(org["id"], uid, [role["id"]], add=True)
    sb.update_user(uid, blocked=True)
    sb.delete_organization(org["id"])
    sb.delete_role(role["id"])
    sb.delete_user(uid)
    got = [(e["type"], e["description"]) for e in sb.logs_truth()[start:]]
    assert got == [
        ("sapi", "Create a role"),
        ("sapi", "Assign users to a role"),
        ("sapi", "Create an Organization"),
        ("sapi", "Add members to an organization"),
        ("sapi", "Assign user roles to an Organization member"),
        ("sapi", "Update a User"),
        ("sapi", "Delete organization"),
        ("sapi", "Delete a role"),
        ("sdu", f"user_id: {uid.split('|')[1]}"),
        ("sapi", "Delete a User"),
    ]
    paths = [
        e["details"]["request"]["path"]
        for e in sb.logs_truth()[start:]
        if "request" in e["details"]
    ]
    assert paths[0] == "/api/v2/roles" and paths[-1] == f"/api/v2/users/{quote(uid, safe='')}"


def test_touch_and_log_false_log_nothing(sb: Sandbox) -> None:
    before = sb.logs_truth()
    sb.touch(5)
    sb.update_user(sb.truth()[0]["user_id"], log=False, blocked=True)
    assert sb.logs_truth() == before


def test_enroll_adds_a_method_and_logs_gd_enrollment(s: requests.Session, sb: Sandbox) -> None:
    uid = sb.truth()[9]["user_id"]
    start = _checkpoint(sb)
    r = requests.post(
        f"{sb.base_url}/_sandbox/users/{quote(uid, safe='')}/enroll", json={"type": "totp"}
    )
    assert r.status_code == 201
    method = r.json()
    methods = s.get(f"{sb.base_url}/api/v2/users/{quote(uid, safe='')}/authentication-methods")
    assert method["id"] in {m["id"] for m in methods.json()}
    [e] = _since(s, sb, start)
    assert e["type"] == "gd_enrollment_complete" and e["user_id"] == uid
    assert method in sb.per_user_truth()["user_authentication_methods"][uid]
