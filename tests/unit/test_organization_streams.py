"""organizations and their members, member roles, connections and invitations."""

from __future__ import annotations

from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.tap import catalog_selecting, run_inprocess

CONFIG = {"domain": "https://acme.us.auth0.com", "access_token": "T"}
ORGS = {
    "organizations",
    "organization_members",
    "organization_member_roles",
    "organization_connections",
    "organization_invitations",
}


def tenant_with_orgs(n: int = 4, big: int = 2500) -> Tenant:
    orgs = [
        {"id": f"org_{i:016d}", "name": f"org-{i}", "display_name": f"Org {i}"} for i in range(n)
    ]
    t = Tenant(organizations=orgs)
    for i, org in enumerate(orgs):
        count = big if i == 0 else i  # org 1.. have i members; one org has none
        t.members[org["id"]] = [
            {
                "user_id": f"auth0|{j}",
                "email": f"u{j}@x.com",
                "name": "n",
                "picture": "p",
                # The same user holds roles in several organizations.
                "roles": [{"id": f"rol_{k}", "name": f"r{k}"} for k in range(j % 3)],
            }
            for j in range(count)
        ]
        t.connections[org["id"]] = [
            {
                "connection_id": f"con_{k}",
                "assign_membership_on_login": False,
                "show_as_button": True,
                "connection": {"name": f"c{k}", "strategy": "auth0"},
            }
            for k in range(i % 3)
        ]
        t.invitations[org["id"]] = [
            {
                "id": f"uinv_{i}_{k}",
                "organization_id": org["id"],
                "inviter": {"name": "Inviter"},
                "invitee": {"email": "x@example.com"},
                "invitation_url": "https://login.example.com/?invitation=SECRET-TICKET",
                "ticket_id": "SECRET-TICKET",
                "created_at": "2024-01-01T00:00:00.000Z",
                "expires_at": "2024-01-08T00:00:00.000Z",
            }
            for k in range(2)
        ]
    return t


def run(requests_mock, tenant: Tenant, streams=ORGS):
    mount_tenant(requests_mock, tenant)
    return run_inprocess(CONFIG, catalog=catalog_selecting(CONFIG, set(streams)))


def rows(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def test_members_keys_are_unique_across_organizations(requests_mock):
    tenant = tenant_with_orgs()
    messages = run(requests_mock, tenant)
    members = rows(messages, "organization_members")
    assert len(members) == 2500 + 1 + 2 + 3
    assert len({(m["organization_id"], m["user_id"]) for m in members}) == len(members)
    assert all("roles" not in m for m in members)


def test_member_roles_come_from_the_members_answers_without_extra_requests(requests_mock):
    tenant = tenant_with_orgs()
    messages = run(requests_mock, tenant)
    roles = rows(messages, "organization_member_roles")
    expected = sum(len(m["roles"]) for ms in tenant.members.values() for m in ms)
    assert len(roles) == expected
    assert len({(r["organization_id"], r["user_id"], r["role_id"]) for r in roles}) == expected
    member_requests = [r for r in tenant.requests if "members" in r]
    # 2,500 members: 25 pages + the trailing empty page; 3 small orgs, one page each.
    assert len(member_requests) == 26 + 3
    assert all("roles" in r for r in member_requests)
    assert not [r for r in tenant.requests if "/roles" in r.split(" ")[0]]


def test_refused_member_roles_fall_back_to_members_without_roles_and_say_so_once(
    requests_mock, caplog
):
    tenant = tenant_with_orgs(big=3)
    tenant.refused = {"read:organization_member_roles"}
    messages = run(requests_mock, tenant)
    assert len(rows(messages, "organization_members")) == 3 + 1 + 2 + 3
    assert rows(messages, "organization_member_roles") == []
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    said = [w for w in warnings if "'organization_member_roles' skipped" in w]
    assert len(said) == 1 and "read:organization_member_roles" in said[0]
    activated = {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}
    assert "organization_member_roles" not in activated
    assert "organization_members" in activated


def test_invitation_links_never_land(requests_mock):
    tenant = tenant_with_orgs(big=1)
    messages = run(requests_mock, tenant)
    invitations = rows(messages, "organization_invitations")
    assert len(invitations) == 2 * 4
    assert len({i["id"] for i in invitations}) == len(invitations)
    assert all("invitation_url" not in i and "ticket_id" not in i for i in invitations)
    assert "SECRET-TICKET" not in str(messages)
    asked = [r for r in tenant.requests if "invitations" in r]
    assert all("fields=invitation_url%2cticket_id&include_fields=false" in r.lower() for r in asked)


def test_connections_carry_their_organization(requests_mock):
    tenant = tenant_with_orgs()
    connections = rows(run(requests_mock, tenant), "organization_connections")
    assert len(connections) == sum(len(c) for c in tenant.connections.values())
    assert len({(c["organization_id"], c["connection_id"]) for c in connections}) == len(
        connections
    )


def test_a_tenant_without_organizations_gives_empty_tables(requests_mock):
    messages = run(requests_mock, Tenant())
    assert not [m for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"} == ORGS
