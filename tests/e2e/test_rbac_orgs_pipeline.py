"""Roles and organizations through Meltano into PostgreSQL: sandbox -> tap-auth0 ->
target-postgres (hard_delete) -> tables equal to the sandbox's truth.

The tenant has a role with more than 1,000 users and an organization with more than 1,000
members, so role members and organization members are read with checkpoint paging. Each
full-table read ends with ACTIVATE_VERSION: after a role and an organization are deleted in
the sandbox, a second run removes their rows (and their children's rows) from every table.

One sandbox, one Meltano project and one schema for the module: the fixture runs the first
pipeline and snapshots the tables, so the tests do not depend on their order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support import postgres
from tests.support.figures import report
from tests.support.meltano import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    MeltanoRunner,
    need_meltano,
)
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import assert_tables_equal, query

USERS, SEED = 1500, 3
ROLES, BIG_ROLE_USERS = 8, 1200
ORGS, BIG_ORG_MEMBERS = 12, 1100

Key = tuple[str, ...]
Truth = dict[str, Any]

# table -> primary key columns (the tap's stream primary keys)
KEYS: dict[str, tuple[str, ...]] = {
    "roles": ("id",),
    "role_permissions": ("role_id", "resource_server_identifier", "permission_name"),
    "role_members": ("role_id", "user_id"),
    "organizations": ("id",),
    "organization_members": ("organization_id", "user_id"),
    "organization_member_roles": ("organization_id", "user_id", "role_id"),
    "organization_connections": ("organization_id", "connection_id"),
    "organization_invitations": ("id",),
}
SELECT = json.dumps([f"{table}.*" for table in KEYS])


def expected(tt: Truth) -> dict[str, dict[Key, dict[str, Any]]]:
    """Per table: primary key -> the value columns checked, from `sb.tenant_truth()`."""
    out: dict[str, dict[Key, dict[str, Any]]] = {t: {} for t in KEYS}
    for r in tt["roles"]:
        out["roles"][(r["id"],)] = {"name": r["name"], "description": r.get("description")}
    for rid, perms in tt["role_permissions"].items():
        for p in perms:
            key = (rid, p["resource_server_identifier"], p["permission_name"])
            out["role_permissions"][key] = {"resource_server_name": p.get("resource_server_name")}
    for rid, users in tt["role_users"].items():
        for u in users:
            out["role_members"][(rid, u["user_id"])] = {"email": u.get("email")}
    for o in tt["organizations"]:
        out["organizations"][(o["id"],)] = {
            "name": o["name"],
            "display_name": o.get("display_name"),
            "metadata": o.get("metadata"),
        }
    for oid, members in tt["organization_members"].items():
        for m in members:
            out["organization_members"][(oid, m["user_id"])] = {
                "email": m.get("email"),
                "name": m.get("name"),
            }
    for oid, per_user in tt["organization_member_roles"].items():
        for uid, roles in per_user.items():
            for r in roles:
                out["organization_member_roles"][(oid, uid, r["id"])] = {"role_name": r["name"]}
    for oid, conns in tt["organization_enabled_connections"].items():
        for c in conns:
            out["organization_connections"][(oid, c["connection_id"])] = {
                "assign_membership_on_login": c.get("assign_membership_on_login"),
                "connection": c.get("connection"),
            }
    for oid, invitations in tt["organization_invitations"].items():
        for i in invitations:
            out["organization_invitations"][(i["id"],)] = {
                "organization_id": oid,
                "invitee": i.get("invitee"),
            }
    return out


def ticket_ids(tt: Truth) -> set[str]:
    return {
        i["ticket_id"]
        for invitations in tt["organization_invitations"].values()
        for i in invitations
        if i.get("ticket_id")
    }


@dataclass
class Loaded:
    sandbox: Sandbox
    meltano: MeltanoRunner
    uri: str
    schema: str
    truth: Truth  # tenant_truth() after run 1
    tables: dict[str, list[dict[str, Any]]]  # every table right after run 1
    columns: dict[str, set[str]]  # columns of every table right after run 1
    seconds: float  # run 1 wall time

    def run(self) -> float:
        started = time.monotonic()
        self.meltano("run", "tap-auth0", "target-postgres")
        return time.monotonic() - started

    def read(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, set[str]]]:
        sql = [f'SELECT * FROM "{self.schema}"."{t}"' for t in KEYS]
        sql.append(
            "SELECT table_name, column_name FROM information_schema.columns"
            f" WHERE table_schema = '{self.schema}'"
        )
        *rows, cols = query("postgres", self.uri, *sql)
        columns: dict[str, set[str]] = {t: set() for t in KEYS}
        for c in cols:
            columns.setdefault(c["table_name"], set()).add(c["column_name"])
        return dict(zip(KEYS, rows, strict=True)), columns


@pytest.fixture(scope="module")
def loaded(pg_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    need_meltano()
    cfg = SandboxConfig(
        users=USERS,
        seed=SEED,
        access_token=ACCESS_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        roles=ROLES,
        big_role_users=BIG_ROLE_USERS,
        organizations=ORGS,
        big_org_members=BIG_ORG_MEMBERS,
    )
    workdir: Path = tmp_path_factory.mktemp("rbac-orgs")
    with Sandbox(cfg) as sb, postgres.scratch_schema(pg_uri) as schema:
        meltano = MeltanoRunner(workdir, sb.base_url)
        meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(pg_uri)
        meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
        meltano.env["TARGET_POSTGRES_HARD_DELETE"] = "true"
        # Only the RBAC/organization streams: the users streams are tested elsewhere.
        meltano.env["TAP_AUTH0__SELECT"] = SELECT
        state = Loaded(sb, meltano, pg_uri, schema, {}, {}, {}, 0.0)
        state.seconds = state.run()
        state.truth = sb.tenant_truth()
        state.tables, state.columns = state.read()
        yield state


def compare(
    tables: dict[str, list[dict[str, Any]]], want: dict[str, dict[Key, dict[str, Any]]], label: str
) -> None:
    assert_tables_equal(tables, want, KEYS, f"rbac/orgs pg {label}")


def assert_no_ticket_links(
    rows: list[dict[str, Any]], columns: set[str], tickets: set[str], label: str
) -> None:
    assert tickets, "the sandbox truth should have invitations with ticket ids"
    for col in ("invitation_url", "ticket_id"):
        if col in columns:
            filled = [r["id"] for r in rows if r.get(col) is not None]
            assert not filled, f"{label}: {col} set on {len(filled)} invitations, e.g. {filled[:3]}"
    dumped = {r["id"]: json.dumps(r, default=str) for r in rows}
    leaked = [(i, t) for i, text in dumped.items() for t in tickets if t in text]
    assert not leaked, f"{label}: invitation ticket ids landed in PostgreSQL: {leaked[:3]}"


def pick(items: list[str], score: Callable[[str], tuple[int, ...]]) -> str:
    """The item with every count positive and the highest score (deterministic)."""
    ok = [i for i in items if all(score(i))]
    assert ok, "the sandbox has no role/organization with every kind of child row"
    return max(ok, key=lambda i: (sorted(score(i)), i))


def test_rbac_and_org_tables_equal_truth(loaded: Loaded) -> None:
    tt = loaded.truth
    role_users = {rid: len(users) for rid, users in tt["role_users"].items()}
    org_members = {oid: len(m) for oid, m in tt["organization_members"].items()}
    assert max(role_users.values()) > 1000, "no role with > 1,000 users: checkpoint paging unused"
    assert max(org_members.values()) > 1000, "no org with > 1,000 members: paging unused"
    # The sandbox's two views of members' org roles agree (the tap reads the inline one).
    for oid, members in tt["organization_members"].items():
        inline = {m["user_id"]: sorted(r["id"] for r in m.get("roles", [])) for m in members}
        listed = {
            uid: sorted(r["id"] for r in roles)
            for uid, roles in tt["organization_member_roles"][oid].items()
            if roles
        }
        assert {u: r for u, r in inline.items() if r} == listed, f"sandbox truth: {oid}"

    report(
        f"rbac/orgs pg run 1: {USERS} users, {ROLES} roles (largest {max(role_users.values())}"
        f" users), {ORGS} orgs (largest {max(org_members.values())} members);"
        f" meltano run {loaded.seconds:.1f}s"
    )
    compare(loaded.tables, expected(tt), "run 1")
    link_cols = {"invitation_url", "ticket_id"} & loaded.columns["organization_invitations"]
    report(
        f"rbac/orgs pg run 1: invitation link columns {sorted(link_cols) or 'absent'},"
        f" {len(ticket_ids(tt))} truth ticket ids checked against every value"
    )
    assert_no_ticket_links(
        loaded.tables["organization_invitations"],
        loaded.columns["organization_invitations"],
        ticket_ids(tt),
        "run 1",
    )


def test_deleted_role_and_org_leave_postgres(loaded: Loaded) -> None:
    sb, before = loaded.sandbox, loaded.truth
    perms, users = before["role_permissions"], before["role_users"]
    role = pick([r["id"] for r in before["roles"]], lambda r: (len(perms[r]), len(users[r])))
    members = before["organization_members"]
    conns = before["organization_enabled_connections"]
    invitations = before["organization_invitations"]
    org = pick(
        [o["id"] for o in before["organizations"]],
        lambda o: (len(members[o]), len(conns[o]), len(invitations[o])),
    )
    assert sb.delete_role(role)
    assert sb.delete_organization(org)
    after = sb.tenant_truth()
    want = expected(after)
    old = expected(before)
    # what must disappear: the role's and the org's rows, and the role in other orgs' members
    gone = {t: set(old[t]) - set(want[t]) for t in KEYS}
    assert gone["roles"] == {(role,)} and gone["organizations"] == {(org,)}

    seconds = loaded.run()
    tables, columns = loaded.read()
    report(
        f"rbac/orgs pg run 2 (hard_delete): deleted role {role} ({len(perms[role])} permissions,"
        f" {len(users[role])} users) and org {org} ({len(members[org])} members,"
        f" {len(conns[org])} connections, {len(invitations[org])} invitations);"
        f" meltano run {seconds:.1f}s; rows to drop per table "
        + ", ".join(f"{t} {len(k)}" for t, k in gone.items())
    )
    # Before run 2 the deleted rows were all there (run 1 equals the old truth).
    for table, keys in gone.items():
        landed = {tuple(r[c] for c in KEYS[table]) for r in loaded.tables[table]}
        assert keys <= landed, f"{table}: run 1 lacked rows of the deleted role/org"
    compare(tables, want, "run 2")
    for table, cols in KEYS.items():
        for col in {"role_id", "organization_id", "id"} & set(cols):
            hit = [r for r in tables[table] if r[col] in (role, org)]
            assert not hit, f"{table}: rows of the deleted role/org remain: {hit[:3]}"
    assert_no_ticket_links(
        tables["organization_invitations"],
        columns["organization_invitations"],
        ticket_ids(after),
        "run 2",
    )
