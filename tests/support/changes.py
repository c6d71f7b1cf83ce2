"""Changes an admin makes through the Management API (each logged by the sandbox as Auth0
does), for the change-capture tests, and the rows only a full pass removes."""

from __future__ import annotations

import typing as t
from urllib.parse import quote

import requests
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.meltano import CLIENT_ID, CLIENT_SECRET

TOKEN = "T"
PER_USER = (
    "user_detail",
    "user_permissions",
    "user_authentication_methods",
    "user_sessions",
    "user_refresh_tokens",
)
# Rows the log cannot name, left to the next full pass (docs/architecture.md, "What only the
# full pass catches"); the marts leave them out (tests/e2e/test_change_capture_pipeline.py).
BY_USER = ("role_members", "organization_members", "organization_member_roles", *PER_USER)
BY_PARENT = {
    "role_members": ("roles", "role_id"),
    "role_permissions": ("roles", "role_id"),
    "organization_members": ("organizations", "organization_id"),
    "organization_member_roles": ("organizations", "organization_id"),
    "organization_connections": ("organizations", "organization_id"),
    "organization_invitations": ("organizations", "organization_id"),
    "connection_clients": ("connections", "connection_id"),
}


def capture_tenant(
    *, users: int, seed: int, roles: int, organizations: int, logs: int
) -> SandboxConfig:
    """A tenant for the change-capture tests: the tests' token and the client credentials
    Meltano's runs sign in with, and the Enterprise features on, so that the per-user
    sessions and refresh tokens have rows to change."""
    return SandboxConfig(
        users=users,
        seed=seed,
        roles=roles,
        organizations=organizations,
        logs=logs,
        enterprise_features=True,
        access_token=TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


class Api:
    """The Management API, as an admin calls it."""

    def __init__(self, sb: Sandbox) -> None:
        self.base = f"{sb.base_url}/api/v2"
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {TOKEN}"
        self.calls = 0

    def __call__(self, method: str, path: str, body: t.Any = None) -> t.Any:
        self.calls += 1
        r = self.s.request(method, self.base + path, json=body, timeout=30)
        assert r.status_code < 300, (method, path, r.status_code, r.text[:300])
        return r.json() if r.content else None


def q(value: str) -> str:
    return quote(value, safe="")


def make_changes(sb: Sandbox, tag: str = "1") -> dict[str, t.Any]:
    """A mix of every kind of change the log names; returns what was done."""
    api = Api(sb)
    tt = sb.tenant_truth()
    users = sorted(u["user_id"] for u in sb.truth())
    roles = [r["id"] for r in tt["roles"]]
    orgs = [o["id"] for o in tt["organizations"]]
    gone = set(users[:2])
    # A role with permissions, another with members; an organization with members.
    role_a = next(r for r in roles if tt["role_permissions"][r])
    role_b = next(
        r for r in roles if r != role_a and {u["user_id"] for u in tt["role_users"][r]} - gone
    )
    org_b = next(o for o in orgs if {m["user_id"] for m in tt["organization_members"][o]} - gone)
    org_a = next(o for o in orgs if o != org_b)
    done: dict[str, t.Any] = {"deleted_users": users[:2]}
    for uid in users[:2]:
        api("DELETE", f"/users/{q(uid)}")
    api("PATCH", f"/users/{q(users[2])}", {"blocked": True})
    # Roles granted and revoked, a permission granted and one revoked.
    api("POST", f"/users/{q(users[3])}/roles", {"roles": [role_a]})
    member = next(u["user_id"] for u in tt["role_users"][role_b] if u["user_id"] not in users[:2])
    api("DELETE", f"/users/{q(member)}/roles", {"roles": [role_b]})
    perm = tt["role_permissions"][role_a][0]
    api(
        "DELETE",
        f"/roles/{role_a}/permissions",
        {
            "permissions": [
                {
                    "resource_server_identifier": perm["resource_server_identifier"],
                    "permission_name": perm["permission_name"],
                }
            ]
        },
    )
    # Organization members and member roles, in and out.
    api("POST", f"/organizations/{org_a}/members", {"members": [users[4]]})
    api("POST", f"/organizations/{org_a}/members/{q(users[4])}/roles", {"roles": [role_a]})
    leaving = next(
        m["user_id"] for m in tt["organization_members"][org_b] if m["user_id"] not in users[:2]
    )
    with_roles = [
        (uid, rs)
        for uid, rs in tt["organization_member_roles"][org_b].items()
        if rs and uid not in users[:2] and uid != leaving
    ]
    if with_roles:
        uid, rs = with_roles[0]
        api("DELETE", f"/organizations/{org_b}/members/{q(uid)}/roles", {"roles": [rs[0]["id"]]})
    api("DELETE", f"/organizations/{org_b}/members", {"members": [leaving]})
    # Enabled connections off and on.
    enabled = tt["organization_enabled_connections"][org_a]
    if enabled:
        api("DELETE", f"/organizations/{org_a}/enabled_connections/{enabled[0]['connection_id']}")
    on_b = {e["connection_id"] for e in tt["organization_enabled_connections"][org_b]}
    spare = next((c["id"] for c in tt["connections"] if c["id"] not in on_b), None)
    if spare is not None:
        api(
            "POST",
            f"/organizations/{org_b}/enabled_connections",
            {"connection_id": spare, "assign_membership_on_login": False},
        )
    # An organization and a client created and one of each deleted.
    api("POST", "/organizations", {"name": f"capture-new-org-{tag}"})
    api("DELETE", f"/organizations/{next(o for o in orgs if o not in (org_a, org_b))}")
    api("POST", "/clients", {"name": f"capture-new-client-{tag}"})
    gone_client = tt["clients"][-1]["client_id"]
    api("DELETE", f"/clients/{gone_client}")
    done["deleted_clients"] = {gone_client}
    # MFA enrolled and deleted, sessions revoked.
    sb.enroll(users[5])
    methods = {
        uid: ms for uid, ms in tt["user_authentication_methods"].items() if uid not in users[:6]
    }
    uid, ms = next(iter(methods.items()))
    api("DELETE", f"/users/{q(uid)}/authentication-methods/{q(ms[0]['id'])}")
    sessions = [u for u in tt["user_sessions"] if u not in users[:2]]
    api("DELETE", f"/users/{q(sessions[0])}/sessions")
    done["revoked_all"] = {sessions[0]}
    done["left_members"] = {(org_b, leaving)}
    done["calls"] = api.calls + 1  # and the enrolment
    return done


def merge(total: dict[str, t.Any], done: dict[str, t.Any]) -> dict[str, t.Any]:
    """What several rounds of `make_changes` did, as one."""
    for key in ("deleted_users", "revoked_all", "left_members", "deleted_clients"):
        total[key] = set(total.get(key, ())) | set(done[key])
    total["calls"] = total.get("calls", 0) + done["calls"]
    return total


def left_to_full_pass(
    table: str, row: dict[str, t.Any], done: dict[str, t.Any], gone: dict[str, set[str]]
) -> bool:
    """Rows the log names no key for stay until the full pass (the marts leave them out):
    a deleted user's rows, a deleted parent's children, the organization roles of a removed
    member, the sessions of a user whose sessions were all revoked at once."""
    user = row.get("user_id")
    if table in BY_USER and user in done["deleted_users"]:
        return True
    if (
        table == "organization_member_roles"
        and (row.get("organization_id"), user) in done["left_members"]
    ):
        return True
    if table == "user_sessions" and user in done["revoked_all"]:
        return True
    parent = BY_PARENT.get(table)
    return parent is not None and row.get(parent[1]) in gone.get(parent[0], set())
