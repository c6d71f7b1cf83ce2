"""The tenant's name: from the domain or the `tenant` setting, on every record and in the
STATE; a STATE of another tenant stops the run before it writes anything."""

from __future__ import annotations

import pytest

from tap_auth0.errors import ConfigError
from tap_auth0.settings import normalize_domain, parse_settings
from tap_auth0.tap import TapAuth0
from tap_auth0.tenant import tenant_from_domain
from tests.support.cli import last_stderr_line, run_cli
from tests.support.fake_search import FakeSearch, make_users
from tests.support.messages import last_state
from tests.support.mock_api import DOMAIN, mount_search, run_tap
from tests.support.tap import catalog_selecting

TOKEN = {"access_token": "T"}


@pytest.mark.parametrize(
    ("domain", "tenant"),
    [
        ("acme.auth0.com", "acme"),
        ("acme.us.auth0.com", "acme"),
        ("https://acme-prod.eu.auth0.com/api/v2/", "acme-prod"),
        ("ACME.AU.AUTH0.COM", "acme"),
        ("login.acme.com", None),
        ("auth.acme.com.proxy.example", None),
        ("a.b.eu.auth0.com", None),
        ("http://127.0.0.1:8080", None),
        ("http://localhost:9", None),
    ],
)
def test_the_domain_names_the_tenant_only_on_auth0s_own_domains(domain, tenant):
    assert tenant_from_domain(normalize_domain(domain)) == tenant


def test_the_setting_wins_over_the_domain():
    settings = parse_settings({"domain": "acme.eu.auth0.com", "tenant": "acme_eu", **TOKEN})
    assert settings.tenant == "acme_eu"
    assert parse_settings({"domain": "acme.eu.auth0.com", **TOKEN}).tenant == "acme"


@pytest.mark.parametrize("domain", ["login.acme.com", "http://127.0.0.1:8080"])
def test_a_domain_that_names_no_tenant_needs_the_setting(domain):
    with pytest.raises(ConfigError, match=r"^Setting 'tenant' is required: the domain "):
        parse_settings({"domain": domain, **TOKEN})
    assert parse_settings({"domain": domain, "tenant": "acme", **TOKEN}).tenant == "acme"


@pytest.mark.parametrize("bad", ["acme eu", "-acme", "acme/eu", "a" * 65, 7])
def test_a_tenant_that_is_not_a_name_is_refused(bad):
    with pytest.raises(ConfigError, match=r"^Setting 'tenant' must be a tenant name"):
        parse_settings({"domain": "acme.us.auth0.com", "tenant": bad, **TOKEN})


def test_every_stream_declares_the_tenant_column():
    catalog = TapAuth0(config={"domain": DOMAIN, **TOKEN}).catalog_dict
    lacking = [
        e["tap_stream_id"] for e in catalog["streams"] if "tenant" not in e["schema"]["properties"]
    ]
    assert catalog["streams"] and lacking == []


def _users_run(requests_mock, state: dict | None = None, **config: str) -> list[dict]:
    mount_search(requests_mock, FakeSearch(make_users(30)))
    catalog = catalog_selecting({"domain": DOMAIN, **TOKEN}, {"users"})
    return run_tap({**TOKEN, **config}, state=state, catalog=catalog)


def test_records_and_state_carry_the_tenant(requests_mock):
    messages = _users_run(requests_mock, tenant="acme_us")
    rows = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert len(rows) == 30 and {r["tenant"] for r in rows} == {"acme_us"}
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    assert states and all(s["tenant"] == "acme_us" for s in states)


def test_a_state_of_another_tenant_stops_the_run(requests_mock):
    first = last_state(_users_run(requests_mock))
    assert first["tenant"] == "acme"
    with pytest.raises(ConfigError) as info:
        _users_run(requests_mock, state=first, tenant="globex")
    assert str(info.value).startswith(
        "The state belongs to tenant 'acme' while this run is tenant 'globex': "
    )


def test_a_state_of_the_same_tenant_or_of_none_is_taken(requests_mock):
    first = last_state(_users_run(requests_mock))
    again = _users_run(requests_mock, state=first)
    assert last_state(again)["tenant"] == "acme"
    older = {k: v for k, v in first.items() if k != "tenant"}  # before the tenant was kept
    resumed = _users_run(requests_mock, state=older)
    assert last_state(resumed)["tenant"] == "acme"
    # its bookmarks were honoured: the same records as the run from the full STATE
    assert [m for m in resumed if m["type"] == "RECORD"] == [
        m for m in again if m["type"] == "RECORD"
    ]


def test_the_cli_stops_on_another_tenants_state_in_one_line_writing_nothing():
    """Before any request or message: the domain here does not even resolve."""
    config = {"domain": "acme.eu.auth0.com", **TOKEN}
    proc = run_cli(config, state={"tenant": "globex", "bookmarks": {"users": {}}})
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert last_stderr_line(proc.stderr) == (
        "tap-auth0: error: The state belongs to tenant 'globex' while this run is tenant "
        "'acme': give each tenant its own extractor, state id and schema (see Several "
        "tenants in the README)"
    )
