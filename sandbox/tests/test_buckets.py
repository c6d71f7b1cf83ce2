"""Rate-limit profiles: one bucket per endpoint family (essentials/enterprise) or one shared
bucket (global/free); headers describe the bucket that answered; stats per route and family."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.api import ROUTES
from auth0_sandbox.ratelimit import FAMILIES

from tests.support.directory_api import TOKEN, get, session
from tests.support.recorded_bodies import RATE_429


def _hit(s: requests.Session, sb: Sandbox, path: str, n: int) -> list[requests.Response]:
    return [get(s, sb, path) for _ in range(n)]


def _ids(sb: Sandbox) -> tuple[str, str]:
    truth = sb.tenant_truth()
    return truth["organizations"][0]["id"], truth["roles"][0]["id"]


def test_every_route_declares_a_known_family() -> None:
    templates = [r.template for r in ROUTES]
    assert len(templates) == len(set(templates))
    assert {r.family for r in ROUTES} <= set(FAMILIES)
    assert all(r.scopes for r in ROUTES)


def test_essentials_families_are_independent(fresh: Any) -> None:
    with fresh(users=30, access_token=TOKEN, rate_limit_profile="essentials") as sb, session() as s:
        oid, rid = _ids(sb)
        orgs = _hit(s, sb, "/organizations", 6)
        assert [r.status_code for r in orgs] == [200] * 5 + [429]
        assert orgs[0].headers["x-ratelimit-limit"] == "5"
        assert orgs[0].headers["x-ratelimit-remaining"] == "4"
        assert orgs[-1].json() == RATE_429 and "Retry-After" not in orgs[-1].headers
        assert int(orgs[-1].headers["x-ratelimit-reset"]) > 0
        # other families still answer, each with its own bucket's headers
        expected = {
            "/users": "40",
            "/connections": "5",
            f"/organizations/{oid}/members": "40",
            f"/organizations/{oid}/enabled_connections": "5",
            f"/roles/{rid}/users": "10",
            "/roles": "10",
        }
        for path, limit in expected.items():
            r = get(s, sb, path)
            assert r.status_code == 200, path
            assert r.headers["x-ratelimit-limit"] == limit, path
        # "everything else" is one bucket: roles + role users + invitations share it
        rest = _hit(s, sb, "/roles", 8) + [get(s, sb, f"/organizations/{oid}/invitations")]
        assert [r.status_code for r in rest] == [200] * 8 + [429]
        assert get(s, sb, "/users").status_code == 200
        st = sb.stats()
        assert st["rate_limited_by_family"] == {"organizations": 1, "other": 1}
        assert st["rate_limited_by_endpoint"] == {
            "GET /api/v2/organizations": 1,
            "GET /api/v2/organizations/{id}/invitations": 1,
        }
        assert st["by_endpoint"]["GET /api/v2/organizations"] == 6
        assert st["by_endpoint"]["GET /api/v2/organizations/{id}/members"] == 1
        assert st["by_family"]["organizations"] == 6 and st["by_family"]["users"] == 2
        assert st["by_family"]["other"] == 11 and st["rate_limited"] == 2
        over_http = requests.get(f"{sb.base_url}/_sandbox/stats").json()
        assert over_http["rate_limited_by_family"] == st["rate_limited_by_family"]


def test_global_profile_shares_one_bucket(fresh: Any) -> None:
    with fresh(users=30, access_token=TOKEN) as sb, session() as s:
        assert sb.config.rate_limit_profile == "global"
        r = get(s, sb, "/roles")
        assert r.headers["x-ratelimit-limit"] == "1000000"  # unlimited by default
        sb.configure(rate_limit_burst=3, rate_limit_per_second=0.01)
        oid, _ = _ids(sb)
        answers = [
            get(s, sb, "/users"),
            get(s, sb, "/organizations"),
            get(s, sb, f"/organizations/{oid}/members"),
            get(s, sb, "/roles"),
            get(s, sb, "/connections"),
        ]
        assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
        assert {r.headers["x-ratelimit-limit"] for r in answers} == {"3"}
        st = sb.stats()
        assert st["rate_limited_by_family"] == {"other": 1, "connections": 1}


@pytest.mark.parametrize(
    ("profile", "family_limits"),
    [
        ("free", {"/users": "2", "/roles": "2", "MEMBERS": "2"}),
        ("enterprise", {"/users": "50", "/roles": "50", "MEMBERS": "40", "CONNS": "10"}),
        ("essentials", {"/users": "40", "/roles": "10", "MEMBERS": "40", "CONNS": "5"}),
    ],
)
def test_profile_sizes(fresh: Any, profile: str, family_limits: dict[str, str]) -> None:
    with fresh(users=20, access_token=TOKEN, rate_limit_profile=profile) as sb, session() as s:
        oid, _ = _ids(sb)
        alias = {
            "MEMBERS": f"/organizations/{oid}/members",
            "CONNS": f"/organizations/{oid}/enabled_connections",
        }
        for path, limit in family_limits.items():
            r = get(s, sb, alias.get(path, path))
            assert r.headers["x-ratelimit-limit"] == limit, (profile, path)


def test_free_profile_throttles_across_endpoints(fresh: Any) -> None:
    with fresh(users=20, access_token=TOKEN, rate_limit_profile="free") as sb, session() as s:
        codes = [get(s, sb, p).status_code for p in ("/users", "/roles", "/organizations")]
        assert codes == [200, 200, 429]


def test_profile_is_a_runtime_knob(fresh: Any) -> None:
    with fresh(users=20, access_token=TOKEN) as sb, session() as s:
        sb.configure(rate_limit_profile="essentials")
        assert get(s, sb, "/organizations").headers["x-ratelimit-limit"] == "5"
        sb.configure(rate_limit_profile="global")
        assert get(s, sb, "/organizations").headers["x-ratelimit-limit"] == "1000000"
        with pytest.raises(ValueError):
            sb.configure(rate_limit_profile="platinum")
        bad = requests.post(
            f"{sb.base_url}/_sandbox/configure", json={"rate_limit_profile": "platinum"}
        )
        assert bad.status_code == 400
    with pytest.raises(ValueError):
        Sandbox(SandboxConfig(users=1, rate_limit_profile="platinum"))
