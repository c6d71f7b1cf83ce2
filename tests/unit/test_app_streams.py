"""clients, client_grants, grants, resource_servers, connections, connection_clients,
actions, log_streams: no secret lands, whatever Auth0 sends."""

from __future__ import annotations

import json

from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.tap import catalog_selecting, run_inprocess

CONFIG = {"domain": "https://acme.us.auth0.com", "access_token": "T"}
SECRET = "PLANTED-SECRET"
APPS = {
    "clients",
    "client_grants",
    "grants",
    "resource_servers",
    "connections",
    "connection_clients",
    "actions",
    "log_streams",
}


def tenant() -> Tenant:
    t = Tenant()
    t.clients = [
        {
            "client_id": f"cid{i}",
            "name": f"App {i}",
            "app_type": "spa",
            # What Auth0 sends to a token with read:client_keys, or ignoring `fields`.
            "client_secret": f"{SECRET}-cs{i}",
            "signing_keys": [{"cert": f"{SECRET}-cert{i}", "pkcs7": f"{SECRET}-p7{i}"}],
            "encryption_key": {"pub": f"{SECRET}-pub{i}"},
            "client_authentication_methods": {"private_key_jwt": {"credentials": [SECRET]}},
            "addons": {"aws": {"principal": f"{SECRET}-aws"}},
        }
        for i in range(150)
    ]
    t.client_grants = [
        {"id": f"cgr_{i}", "client_id": "cid0", "audience": "https://api/", "scope": ["read:x"]}
        for i in range(3)
    ]
    t.grants = [
        {"id": f"g{i}", "clientID": "cid1", "user_id": "auth0|1", "audience": "a", "scope": []}
        for i in range(2)
    ]
    t.resource_servers = [
        {"id": "rs1", "name": "API", "identifier": "https://api/", "signing_secret": f"{SECRET}-rs"}
    ]
    t.connections_list = [
        {
            "id": f"con_{i}",
            "name": f"c{i}",
            "strategy": "waad",
            "options": {"client_secret": f"{SECRET}-idp{i}", "customScripts": {"login": SECRET}},
        }
        for i in range(2)
    ]
    t.connection_clients = {"con_0": [{"client_id": f"cid{i}"} for i in range(100)]}
    t.actions = [
        {
            "id": f"act{i}",
            "name": f"a{i}",
            "code": f"const key = '{SECRET}-code{i}'",
            "deployed_version": {"id": "v1", "code": f"'{SECRET}-dep{i}'", "runtime": "node18"},
        }
        for i in range(45)
    ]
    t.log_streams = [
        {
            "id": "lst_1",
            "type": "http",
            "sink": {
                "httpEndpoint": f"https://user:{SECRET}@logs.example.com/in?token={SECRET}",
                "httpContentType": "application/json",
                "httpAuthorization": f"Bearer {SECRET}",
                "httpCustomHeaders": [{"header": "X-Key", "value": SECRET}],
            },
        },
        {
            "id": "lst_2",
            "type": "datadog",
            "sink": {"datadogApiKey": SECRET, "datadogRegion": "eu"},
        },
        {"id": "lst_3", "type": "segment", "sink": {"segmentWriteKey": SECRET}},
    ]
    return t


def run(requests_mock, t: Tenant, config=CONFIG, streams=APPS):
    mount_tenant(requests_mock, t)
    return run_inprocess(config, catalog=catalog_selecting(config, set(streams)))


def rows(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def test_no_planted_secret_reaches_the_output_even_when_auth0_sends_them(requests_mock):
    messages = run(requests_mock, tenant())
    assert SECRET not in json.dumps(messages)
    assert len(rows(messages, "clients")) == 150
    assert len(rows(messages, "connection_clients")) == 100
    assert {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"} == APPS


def test_secrets_are_not_asked_for(requests_mock):
    t = tenant()
    run(requests_mock, t)
    asked = {r.split(" ", 1)[0]: r for r in t.requests}
    for path, fields in (
        (
            "/clients",
            "client_secret%2csigning_keys%2cencryption_key%2cclient_authentication_methods%2caddons",
        ),
        ("/connections", "options"),
    ):
        assert f"fields={fields}&include_fields=false" in asked[path].lower(), path


def test_non_secret_values_land(requests_mock):
    messages = run(requests_mock, tenant())
    (http, datadog, segment) = rows(messages, "log_streams")
    assert http["sink"] == {
        "httpEndpoint": "https://logs.example.com/in",
        "httpContentType": "application/json",
    }
    assert datadog["sink"] == {"datadogRegion": "eu"} and segment["sink"] == {}
    grants = rows(messages, "grants")
    assert all(g["client_id"] == "cid1" and "clientID" not in g for g in grants)
    actions = rows(messages, "actions")
    assert len(actions) == 45 and actions[0]["deployed_version"] == {
        "id": "v1",
        "runtime": "node18",
    }
    assert rows(messages, "resource_servers") == [
        {"id": "rs1", "name": "API", "identifier": "https://api/", "tenant": "acme"}
    ]
    assert {(c["connection_id"], c["client_id"]) for c in rows(messages, "connection_clients")} == {
        ("con_0", f"cid{i}") for i in range(100)
    }


def test_actions_page_without_include_totals_and_keep_code_on_request(requests_mock):
    t = tenant()
    messages = run(requests_mock, t, {**CONFIG, "actions_include_code": True}, {"actions"})
    asked = [r for r in t.requests if r.startswith("/actions/actions")]
    assert len(asked) == 1 and "include_totals" not in asked[0] and "per_page=100" in asked[0]
    assert rows(messages, "actions")[0]["code"].endswith("code0'")
