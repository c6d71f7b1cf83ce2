"""Applications, grants, connections (options + enabled clients), APIs, actions and log
streams: shapes vs the go-auth0 recordings, paging styles, secrets in raw answers, truth."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from auth0_sandbox import Sandbox
from auth0_sandbox.api import ROUTES
from auth0_sandbox.tenant import SECRET_CLIENT_FIELDS, SINK_TYPES

from tests.support.recordings import _load, assert_like, body, cursor_id, gets

MARKER = "SBXSECRET"
TOKEN = re.compile(MARKER + r"_[a-z0-9_]+?_\d{3}[A-Za-z0-9]+")
KEYS = "read:client_keys"


def get(api: requests.Session, sb: Sandbox, path: str, **params: Any) -> requests.Response:
    return api.get(f"{sb.base_url}/api/v2{path}", params=params)


def ok(api: requests.Session, sb: Sandbox, path: str, **params: Any) -> Any:
    r = get(api, sb, path, **params)
    assert r.status_code == 200, r.text
    return r.json()


def grant(sb: Sandbox, *extra: str) -> None:
    sb.configure(static_scopes=" ".join([sb.config.static_scopes, *extra]))


def walk(api: requests.Session, sb: Sandbox, path: str, key: str, take: int) -> list[list[Any]]:
    pages, params = [], {"take": take}
    while True:
        page = ok(api, sb, path, **params)
        assert set(page) <= {key, "next"}, page
        pages.append(page[key])
        if "next" not in page:
            return pages
        cursor_id(page["next"])
        params = {"take": take, "from": page["next"]}


def recorded_get(name: str, fragment: str) -> Any:
    return next(b for url, _, b in gets(name) if fragment in url)


# -- clients ----------------------------------------------------------------------------------
def test_clients_offset_and_projection_as_recorded(sb: Sandbox, api: requests.Session) -> None:
    recorded = body("TestClient_List")
    ours = ok(api, sb, "/clients", fields="client_id", include_fields="true", include_totals="true")
    assert set(ours) == set(recorded)
    assert ours["total"] == sb.config.clients == len(ours["clients"])
    assert ours["start"] == 0 and ours["limit"] == 50
    for c in ours["clients"]:  # Auth0 adds `tenant` to any projection
        assert set(c) == {"tenant", "client_id"}
    full = ok(api, sb, "/clients")
    assert isinstance(full, list) and len(full) == sb.config.clients
    read = recorded_get("TestClient_Read", "/clients/")
    optional = {"client_authentication_methods", *SECRET_CLIENT_FIELDS}
    for c in full:
        assert_like(c, {k: v for k, v in read.items() if k not in optional})
        assert {"app_type", "callbacks", "allowed_origins", "grant_types"} <= set(c)
    for c in sb.tenant_truth()["clients"]:  # private_key_jwt apps: no token_endpoint_auth_method
        assert ("token_endpoint_auth_method" in c) != ("client_authentication_methods" in c)


def test_clients_checkpoint_walk_matches_offset(sb: Sandbox, api: requests.Session) -> None:
    pages = walk(api, sb, "/clients", "clients", 2)
    assert [len(p) for p in pages] == [2, 2, 2, 0]  # a trailing full page leads to an empty one
    walked = [c["client_id"] for p in pages for c in p]
    assert walked == [c["client_id"] for c in ok(api, sb, "/clients")]
    assert walked == [c["client_id"] for c in sb.tenant_truth()["clients"]]
    r = get(api, sb, "/clients", take=2, **{"from": "bm90IGEgY3Vyc29y"})
    assert r.status_code == 400 and r.json()["errorCode"] == "invalid_query_string"


def test_client_secrets_need_read_client_keys(sb: Sandbox, api: requests.Session) -> None:
    r = get(api, sb, "/clients")
    assert MARKER not in r.text
    assert not any(set(SECRET_CLIENT_FIELDS) & set(c) for c in r.json())
    grant(sb, KEYS)
    r = get(api, sb, "/clients")
    assert MARKER in r.text
    docs = r.json()
    assert all(c["client_secret"].startswith(MARKER) for c in docs)
    assert all(MARKER in c["signing_keys"][0]["cert"] for c in docs)
    assert all(MARKER in c["signing_keys"][0]["pkcs7"] for c in docs)
    assert any("encryption_key" in c for c in docs) and any("addons" in c for c in docs)
    assert any("client_authentication_methods" in c for c in docs)
    assert docs == sb.tenant_truth()["clients"]
    excluded = get(
        api, sb, "/clients", fields=",".join(SECRET_CLIENT_FIELDS), include_fields="false"
    )
    assert MARKER not in excluded.text
    assert not any(set(SECRET_CLIENT_FIELDS) & set(c) for c in excluded.json())
    included = ok(api, sb, "/clients", fields="client_id,name", include_fields="true")
    assert all(set(c) == {"tenant", "client_id", "name"} for c in included)


def test_ignore_field_exclusions_sends_every_client_field(
    sb: Sandbox, api: requests.Session
) -> None:
    sb.configure(ignore_field_exclusions=True)  # without read:client_keys, too
    r = get(api, sb, "/clients", fields=",".join(SECRET_CLIENT_FIELDS), include_fields="false")
    assert r.json() == sb.tenant_truth()["clients"] and MARKER in r.text
    r = get(api, sb, "/clients", fields="client_id", include_fields="true", take=50)
    assert r.json()["clients"] == sb.tenant_truth()["clients"]
    r = get(api, sb, "/connections", fields="options", include_fields="false")
    assert all("options" in c for c in r.json())
    r = get(api, sb, "/resource-servers", fields="signing_secret", include_fields="false")
    assert all("signing_secret" in rs for rs in r.json())


def test_client_scopes(sb: Sandbox, api: requests.Session) -> None:
    for scope in ("read:client_summary", "read:client_credentials", KEYS):
        sb.configure(static_scopes=scope)
        assert get(api, sb, "/clients").status_code == 200
    sb.configure(static_scopes="read:users")
    r = get(api, sb, "/clients")
    assert r.status_code == 403 and r.json()["errorCode"] == "insufficient_scope"
    assert "read:clients" in r.json()["message"] and KEYS in r.json()["message"]


# -- grants -----------------------------------------------------------------------------------
def test_client_grants_shape_and_paging(sb: Sandbox, api: requests.Session) -> None:
    recorded = body("TestClientGrantManager_List")
    ours = ok(api, sb, "/client-grants", include_totals="true")
    assert set(ours) == set(recorded)
    truth = sb.tenant_truth()["client_grants"]
    assert ours["client_grants"] == truth and ours["total"] == len(truth) > 0
    item = {
        k: v for k, v in recorded["client_grants"][0].items() if k != "authorization_details_types"
    }
    for g in truth:
        assert_like(g, item)
        assert g["id"].startswith("cgr_")
    pages = walk(api, sb, "/client-grants", "client_grants", 1)
    assert [g for p in pages for g in p] == truth and pages[-1] == []
    one = truth[0]["client_id"]
    assert ok(api, sb, "/client-grants", client_id=one) == [
        g for g in truth if g["client_id"] == one
    ]


def test_user_grants_as_recorded(sb: Sandbox, api: requests.Session) -> None:
    recorded = body("TestGrantManager_List")
    ours = ok(api, sb, "/grants", include_totals="true", per_page=5)
    assert set(ours) == set(recorded) and ours["limit"] == 5
    truth = sb.tenant_truth()["grants"]
    assert ours["total"] == len(truth) and ours["grants"] == truth[:5]
    for g in truth:
        assert set(g) == set(recorded["grants"][0])  # clientID, as Auth0 spells it
        assert_like(g, recorded["grants"][0])
    assert [g["id"] for g in truth] == sorted((g["id"] for g in truth), reverse=True)
    uid = truth[0]["user_id"]
    assert ok(api, sb, "/grants", user_id=uid) == [g for g in truth if g["user_id"] == uid]


# -- connections --------------------------------------------------------------------------------
def test_connections_carry_secret_options_and_checkpoint(
    sb: Sandbox, api: requests.Session
) -> None:
    r = get(api, sb, "/connections")
    assert MARKER in r.text
    conns = r.json()
    assert conns == sb.tenant_truth()["connections"]
    by = {c["strategy"]: c["options"] for c in conns}
    assert by["auth0"]["customScripts"]["login"].count(MARKER) == 1
    assert MARKER in by["google-oauth2"]["client_secret"] and MARKER in by["waad"]["client_secret"]
    assert MARKER in by["samlp"]["signingCert"] and MARKER in by["samlp"]["decryptionKey"]["key"]
    read = recorded_get("TestConnectionManager_List", "/connections?")
    pages = walk(api, sb, "/connections", "connections", 3)
    assert [len(p) for p in pages] == [3, 3, 0]
    assert [c for p in pages for c in p] == conns
    ours = ok(api, sb, "/connections", fields="id", include_fields="true", include_totals="true")
    assert set(ours) == set(read)
    assert all(set(c) == set(read["connections"][0]) for c in ours["connections"])
    excluded = get(api, sb, "/connections", fields="options", include_fields="false")
    assert MARKER not in excluded.text


def test_connection_clients_checkpoint_only(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.tenant_truth()
    recorded = recorded_get("TestConnectionManager_EnabledClients", "/clients")
    for conn in truth["connections"]:
        path = f"/connections/{conn['id']}/clients"
        first = ok(api, sb, path, page=0, per_page=1, include_totals="true")  # ignored
        assert set(first) <= {"clients", "next"}
        assert_like(first, recorded)
        walked = [c for p in walk(api, sb, path, "clients", 1) for c in p]
        assert walked == truth["connection_clients"][conn["id"]] == first["clients"]
        assert sorted(c["client_id"] for c in walked) == conn["enabled_clients"]
    r = get(api, sb, "/connections/con_missing/clients")
    assert r.status_code == 404 and r.json()["errorCode"] == "inexistent_connection"


# -- resource servers, actions, log streams ------------------------------------------------------
def test_resource_servers(sb: Sandbox, api: requests.Session) -> None:
    recorded_list = gets("TestResourceServer_List")[0][2]
    created = json.loads(_load("TestResourceServer_List")[0]["response"]["body"])  # POST answer
    truth = sb.tenant_truth()["resource_servers"]
    ours = ok(api, sb, "/resource-servers", include_totals="true")
    assert set(ours) == set(recorded_list) and ours["resource_servers"] == truth
    optional = {"subject_type_authorization"}
    for rs in truth:
        assert_like(rs, {k: v for k, v in created.items() if k not in optional})
        assert rs["signing_secret"].startswith(MARKER)
    proj = ok(api, sb, "/resource-servers", fields="id,identifier", include_fields="true")
    assert all(set(rs) == set(recorded_list["resource_servers"][0]) for rs in proj)
    one = ok(api, sb, "/resource-servers", identifiers=truth[1]["identifier"])
    assert one == [truth[1]]
    r = get(api, sb, "/resource-servers", fields="signing_secret", include_fields="false")
    assert MARKER not in r.text


def test_actions_always_an_object(sb: Sandbox, api: requests.Session) -> None:
    recorded = body("TestActionManager_List")
    truth = sb.tenant_truth()["actions"]
    ours = ok(api, sb, "/actions/actions", per_page=50)
    assert set(ours) == set(recorded)  # {actions, total, per_page}: no page unless asked
    assert ours["actions"] == truth and ours["total"] == len(truth) == sb.config.actions
    optional = {"deployed_version"}
    for a in truth:
        assert_like(a, {k: v for k, v in recorded["actions"][0].items() if k not in optional})
        assert MARKER in a["code"]
    assert any(MARKER in a["deployed_version"]["code"] for a in truth if "deployed_version" in a)
    assert any("deployed_version" not in a for a in truth)
    default = ok(api, sb, "/actions/actions")
    assert default["per_page"] == 20 and "page" not in default
    paged = ok(api, sb, "/actions/actions", page=1, per_page=2)
    assert paged == {"actions": truth[2:4], "total": len(truth), "page": 1, "per_page": 2}
    assert ok(api, sb, "/actions/actions", page=9)["actions"] == []
    assert get(api, sb, "/actions/actions", per_page=101).status_code == 400
    deployed = ok(api, sb, "/actions/actions", deployed="true")["actions"]
    assert deployed == [a for a in truth if "deployed_version" in a]


def test_log_streams_bare_array_with_every_sink(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.tenant_truth()["log_streams"]
    ours = ok(api, sb, "/log-streams", page=0, per_page=1, include_totals="true")  # no paging
    assert ours == truth and len(ours) == sb.config.log_streams
    assert [s["type"] for s in ours] == list(SINK_TYPES)
    listed = recorded_get("TestLogStreamManager_List", "/log-streams")
    assert isinstance(listed, list)
    names = {
        "http": "HTTP",
        "datadog": "DataDog",
        "splunk": "Splunk",
        "segment": "Segment",
        "sumo": "Sumo",
        "mixpanel": "Mixpanel",
        "eventbridge": "AmazonEventBridge",
    }
    optional = {"filters", "pii_config"}
    for s in ours:
        rec = recorded_get(
            f"TestLogStreamManager_Read__It_can_successfully_read_a_{names[s['type']]}_LogStream",
            "/log-streams/",
        )
        assert set(s["sink"]) == set(rec["sink"]), s["type"]
        assert_like(s, {k: v for k, v in rec.items() if k not in optional})
        assert s["id"].startswith("lst_")
    sinks = {s["type"]: s["sink"] for s in ours}
    for kind, key in (
        ("http", "httpAuthorization"),
        ("datadog", "datadogApiKey"),
        ("splunk", "splunkToken"),
        ("segment", "segmentWriteKey"),
    ):
        assert MARKER in sinks[kind][key]
    assert sinks["mixpanel"]["mixpanelServiceAccountPassword"] == "********"  # masked, recorded
    for kind in ("sumo", "eventbridge"):
        assert MARKER not in json.dumps(sinks[kind])


# -- secrets, truth, scopes ---------------------------------------------------------------------
def test_planted_secrets_cover_every_marker(sb: Sandbox, api: requests.Session) -> None:
    secrets = sb.planted_secrets()
    assert len(secrets) == len(set(secrets)) > 30
    tokens = [t for s in secrets for t in TOKEN.findall(s)]
    assert len(tokens) == len(set(tokens)) == len(secrets)  # one unique suffix per secret
    grant(sb, KEYS)
    paths = ("/clients", "/connections", "/resource-servers", "/actions/actions", "/log-streams")
    raw = "".join(get(api, sb, p).text for p in paths)
    for s in secrets:
        assert json.dumps(s)[1:-1] in raw
    assert set(TOKEN.findall(raw)) == set(tokens)
    assert raw.count(MARKER) == len(TOKEN.findall(raw))
    admin = requests.get(f"{sb.base_url}/_sandbox/planted-secrets").json()
    assert admin == {"secrets": secrets}


def test_truth_keys(sb: Sandbox) -> None:
    truth = sb.tenant_truth()
    for key in (
        "clients",
        "client_grants",
        "connections",
        "connection_clients",
        "resource_servers",
        "grants",
        "actions",
        "log_streams",
        "user_permissions",
        "user_authentication_methods",
        "user_sessions",
        "user_refresh_tokens",
    ):
        assert truth[key], key


NEW_ROUTES = {
    "/clients": "read:clients",
    "/client-grants": "read:client_grants",
    "/grants": "read:grants",
    "/resource-servers": "read:resource_servers",
    "/actions/actions": "read:actions",
    "/log-streams": "read:log_streams",
}


@pytest.mark.parametrize("path", sorted(NEW_ROUTES))
def test_scopes(sb: Sandbox, api: requests.Session, path: str) -> None:
    sb.configure(static_scopes="read:users")
    r = get(api, sb, path)
    assert r.status_code == 403, r.text
    assert r.json()["errorCode"] == "insufficient_scope" and NEW_ROUTES[path] in r.json()["message"]
    sb.configure(static_scopes=NEW_ROUTES[path])
    assert get(api, sb, path).status_code == 200


def test_default_scopes_exclude_client_keys(sb: Sandbox) -> None:
    minted = set(sb.config.scopes.split())
    assert set(NEW_ROUTES.values()) <= minted and KEYS not in minted
    assert {"read:authentication_methods", "read:sessions", "read:refresh_tokens"} <= minted
    assert KEYS not in sb.config.static_scopes.split()


def test_route_families() -> None:
    fam = {r.path: r.family for r in ROUTES}
    assert fam["/clients"] == "clients"
    assert fam["/connections/{id}/clients"] == fam["/connections"] == "connections"
    for path in ("/client-grants", "/grants", "/resource-servers", "/users/{user_id}/sessions"):
        assert fam[path] == "other"
