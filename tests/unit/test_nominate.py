"""The rule table (changes/nominate.py) against Auth0's recorded log events, and a case per
rule: what each Management API change makes an incremental run re-read."""

from __future__ import annotations

import typing as t

import pytest

from tap_auth0.changes.nominate import RULES, Nominations, observe, parse
from tests.support.recordings import gets


def recorded_events() -> list[dict[str, t.Any]]:
    out: list[dict[str, t.Any]] = []
    for name in ("TestLogManager_Search", "TestLogManager_CheckpointPagination"):
        for _url, _status, body in gets(name):
            events = body if isinstance(body, list) else body.get("logs", [body])
            out.extend(e for e in events if isinstance(e, dict) and "type" in e)
    return out


def nominate(*events: dict[str, t.Any]) -> Nominations:
    n = Nominations()
    for e in events:
        observe(e, n)
    return n


def sapi(method: str, path: str, body: t.Any = None, status: int = 204, response: t.Any = None):
    return {
        "type": "sapi",
        "details": {
            "request": {"method": method, "path": f"/api/v2{path}", "body": body or {}},
            "response": {"statusCode": status, "body": response or {}},
        },
    }


def test_the_recorded_events_nominate_what_they_changed():
    events = recorded_events()
    by_description: dict[str, list[Nominations]] = {}
    for e in events:
        if e["type"] == "sapi":
            by_description.setdefault(e["description"], []).append(nominate(e))
    assert {
        "Delete organization",
        "Add members to an organization",
        "Create an Organization",
        "Delete a User",
        "Create a User",
    } <= set(by_description)
    for n in by_description["Delete organization"]:
        assert len(n.organizations) == 1 and next(iter(n.organizations)).startswith("org_")
    for n in by_description["Add members to an organization"]:
        assert n.organizations and not n.removed, "an add removes nothing"
    created = by_description["Create an Organization"][0]
    assert created.organizations == {"org_VvIJTfJhf3NwyCie"}, "the id from the response body"
    for n in by_description["Delete a User"]:
        assert len(n.users_deleted) == 1
    for n in by_description["Create a User"]:
        assert n.empty, "a new user is found by the users search, at no extra request"
    invite = by_description["Create invitations to organization"][0]
    assert invite.organizations == {"org_Kd8VdNUd1DgRhnSk"}


def test_logins_and_failures_nominate_nothing():
    events = [e for e in recorded_events() if e["type"] != "sapi"]
    assert events, "the recordings hold login and email events too"
    assert nominate(*events).empty
    failed = sapi("delete", "/organizations/org_1", status=404)
    read = sapi("get", "/organizations/org_1", status=200)
    assert nominate(failed, read).empty


CASES: list[tuple[str, dict[str, t.Any], dict[str, t.Any]]] = [
    ("user deleted", sapi("delete", "/users/auth0%7C1"), {"users_deleted": {"auth0|1"}}),
    ("sdu", {"type": "sdu", "user_id": "auth0|2"}, {"users_deleted": {"auth0|2"}}),
    (
        "user blocked",
        sapi("patch", "/users/auth0|3", {"blocked": True}, 200),
        {"users": {"auth0|3"}},
    ),
    (
        "roles revoked",
        sapi("delete", "/users/auth0|4/roles", {"roles": ["rol_A"]}),
        {
            "users": {"auth0|4"},
            "roles": {"rol_A"},
            "removed": {"role_members": {("rol_A", "auth0|4"): "rol_A"}},
        },
    ),
    (
        "permission revoked",
        sapi(
            "delete",
            "/users/u5/permissions",
            {
                "permissions": [
                    {"resource_server_identifier": "https://api", "permission_name": "read:x"}
                ]
            },
        ),
        {"users": {"u5"}, "removed": {"user_permissions": {("u5", "https://api", "read:x"): "u5"}}},
    ),
    (
        "MFA factor deleted",
        sapi("delete", "/users/u6/authentication-methods/totp%7Cdev_1"),
        {"users": {"u6"}, "removed": {"user_authentication_methods": {("u6", "totp|dev_1"): "u6"}}},
    ),
    ("sessions revoked", sapi("delete", "/users/u7/sessions", status=202), {"users": {"u7"}}),
    ("MFA enrolled", {"type": "gd_enrollment_complete", "user_id": "u8"}, {"users": {"u8"}}),
    (
        "role created",
        sapi("post", "/roles", {"name": "x"}, 200, {"id": "rol_N"}),
        {"roles": {"rol_N"}},
    ),
    (
        "role members",
        sapi("post", "/roles/rol_B/users", {"users": ["u9"]}, 200),
        {"roles": {"rol_B"}, "users": {"u9"}},
    ),
    (
        "role permission removed",
        sapi(
            "delete",
            "/roles/rol_C/permissions",
            {
                "permissions": [
                    {"resource_server_identifier": "https://api", "permission_name": "w"}
                ]
            },
            200,
        ),
        {
            "roles": {"rol_C"},
            "removed": {"role_permissions": {("rol_C", "https://api", "w"): "rol_C"}},
        },
    ),
    (
        "organization renamed",
        sapi("patch", "/organizations/org_1", {"name": "n"}, 200),
        {"organizations": {"org_1"}},
    ),
    (
        "members removed",
        sapi("delete", "/organizations/org_2/members", {"members": ["u1"]}),
        {
            "organizations": {"org_2"},
            "removed": {"organization_members": {("org_2", "u1"): "org_2"}},
        },
    ),
    (
        "member role removed",
        sapi("delete", "/organizations/org_3/members/u1/roles", {"roles": ["rol_D"]}),
        {
            "organizations": {"org_3"},
            "removed": {"organization_member_roles": {("org_3", "u1", "rol_D"): "org_3"}},
        },
    ),
    (
        "connection disabled",
        sapi("delete", "/organizations/org_4/enabled_connections/con_1"),
        {
            "organizations": {"org_4"},
            "removed": {"organization_connections": {("org_4", "con_1"): "org_4"}},
        },
    ),
    (
        "invitation deleted",
        sapi("delete", "/organizations/org_5/invitations/uinv_1"),
        {
            "organizations": {"org_5"},
            "removed": {"organization_invitations": {("uinv_1",): "org_5"}},
        },
    ),
    (
        "client deleted",
        sapi("delete", "/clients/abc"),
        {
            "tables": {"clients", "client_grants", "connection_clients"},
            "removed": {"clients": {("abc",): ""}},
        },
    ),
    ("client updated", sapi("patch", "/clients/abc", {"name": "n"}, 200), {"tables": {"clients"}}),
    (
        "connection clients",
        sapi("patch", "/connections/con_2/clients", [{"client_id": "abc", "status": False}]),
        {"connections": {"con_2"}},
    ),
    (
        "connection updated",
        sapi("patch", "/connections/con_3", {}, 200),
        {"tables": {"connections"}, "connections": {"con_3"}},
    ),
    (
        "API deleted",
        sapi("delete", "/resource-servers/rs_1"),
        {
            "tables": {"resource_servers", "client_grants"},
            "removed": {"resource_servers": {("rs_1",): ""}},
        },
    ),
    (
        "action deployed",
        sapi("post", "/actions/actions/a1/deploy", status=200),
        {"tables": {"actions"}},
    ),
    ("log stream", sapi("patch", "/log-streams/lst_1", status=200), {"tables": {"log_streams"}}),
    (
        "permission granted",
        sapi("post", "/users/u5/permissions", {"permissions": []}, 201),
        {"users": {"u5"}},
    ),
    ("user unblocked", sapi("delete", "/user-blocks/u10"), {"users": {"u10"}}),
    (
        "organization created",
        sapi("post", "/organizations", {"name": "o"}, 201, {"id": "org_9"}),
        {"organizations": {"org_9"}},
    ),
    (
        "connection enabled",
        sapi("post", "/organizations/org_6/enabled_connections", {"connection_id": "con_1"}, 201),
        {"organizations": {"org_6"}},
    ),
    (
        "invitation created",
        sapi("post", "/organizations/org_7/invitations", {}, 201),
        {"organizations": {"org_7"}},
    ),
    (
        "member role granted",
        sapi("post", "/organizations/org_8/members/u1/roles", {"roles": ["rol_E"]}),
        {"organizations": {"org_8"}},
    ),
    ("client grant", sapi("post", "/client-grants", {}, 201), {"tables": {"client_grants"}}),
    (
        "connection deleted",
        sapi("delete", "/connections/con_4", status=202),
        {"tables": {"connections"}, "removed": {"connections": {("con_4",): ""}}},
    ),
    ("role deleted", sapi("delete", "/roles/rol_F", status=200), {"roles": {"rol_F"}}),
    (
        "identity unlinked",
        sapi("delete", "/users/u11/identities/google-oauth2/123", status=200),
        {"users": {"u11"}},
    ),
    (
        "consent revoked",
        sapi("delete", "/grants/g1"),
        {"tables": {"grants"}, "removed": {"grants": {("g1",): ""}}},
    ),
    (
        "action deleted",
        sapi("delete", "/actions/actions/a2", status=204),
        {"tables": {"actions"}, "removed": {"actions": {("a2",): ""}}},
    ),
    (
        "client secret rotated",
        sapi("post", "/clients/abc/rotate-secret", status=200),
        {"tables": {"clients"}},
    ),
]


@pytest.mark.parametrize(("case", "event", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_change_nominates_its_objects(case, event, expected):
    n = nominate(event)
    for kind in ("users", "users_deleted", "roles", "organizations", "connections", "tables"):
        assert getattr(n, kind) == expected.get(kind, set()), kind
    assert n.removed == expected.get("removed", {})
    assert n.used == 1


def test_a_session_revoked_by_id_is_left_to_the_full_pass():
    n = nominate(sapi("delete", "/sessions/abc", status=200))
    assert n.empty and n.unresolved, "no user in the path: said, not guessed"


def test_every_rule_has_a_case():
    matched = {parse(e)[1].name for _, e, _ in CASES if e["type"] == "sapi" and parse(e)}
    untested = {r.name for r in RULES} - matched - {"session or token revoked by id"}
    assert not untested
