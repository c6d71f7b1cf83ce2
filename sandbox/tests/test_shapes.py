"""Generated data and envelopes look like the recorded Auth0 responses."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import requests
from auth0_sandbox import Sandbox

from tests.support.recorded_bodies import (
    EXPORT_JOB_FULL,
    EXPORT_JOB_MINIMAL,
    RATELIMIT_HEADERS,
    RECORDED_USERS,
    TOKEN_RESPONSE,
    TOTALS_KEYS,
    USER_404,
)

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Keys Auth0 documents for a user object (API-NOTES / OpenAPI GetUserResponseContent).
KNOWN_KEYS = {
    "user_id",
    "email",
    "email_verified",
    "username",
    "phone_number",
    "phone_verified",
    "created_at",
    "updated_at",
    "identities",
    "app_metadata",
    "user_metadata",
    "picture",
    "name",
    "nickname",
    "multifactor",
    "multifactor_last_modified",
    "last_ip",
    "last_login",
    "last_password_reset",
    "logins_count",
    "blocked",
    "given_name",
    "family_name",
    "locale",
}
TS_KEYS = (
    "created_at",
    "updated_at",
    "last_login",
    "last_password_reset",
    "multifactor_last_modified",
)


def _types(u: dict[str, Any]) -> dict[str, type]:
    return {k: type(v) for k, v in u.items()}


def test_user_objects_match_recorded_shapes(sb: Sandbox) -> None:
    users = sb.truth()
    recorded_types: dict[str, type] = {}
    for r in RECORDED_USERS:
        recorded_types.update(_types(r))
    ident_keys = {k for r in RECORDED_USERS for i in r["identities"] for k in i}
    kinds = Counter(u["user_id"].split("|")[0] for u in users)
    assert set(kinds) == {"auth0", "google-oauth2", "github", "sms", "samlp", "waad"}
    for u in users:
        assert set(u) <= KNOWN_KEYS, set(u) - KNOWN_KEYS
        assert None not in u.values(), "optional keys must be absent, not null"
        for k, t in _types(u).items():
            if k in recorded_types:
                assert t is recorded_types[k], (k, t)
        for k in TS_KEYS:
            if k in u:
                assert TS.match(u[k]), u[k]
        assert u["created_at"] <= u["updated_at"]
        assert ("last_login" in u) == ("logins_count" in u) == ("last_ip" in u)
        assert u["identities"], u
        for ident in u["identities"]:
            assert set(ident) <= ident_keys | {"profileData"}
            assert {"connection", "provider", "user_id", "isSocial"} <= set(ident)
        assert u["user_id"].split("|", 1)[0] == u["identities"][0]["provider"]
        if u["user_id"].startswith("sms|"):
            assert "phone_number" in u and "email" not in u
    linked = [u for u in users if len(u["identities"]) > 1]
    assert linked and all("profileData" in u["identities"][1] for u in linked)
    assert any("user_metadata" not in u for u in users)
    assert any(
        isinstance(u.get("user_metadata"), dict)
        and any(isinstance(v, dict) for v in u["user_metadata"].values())
        for u in users
    )
    assert any(u.get("blocked") is True for u in users)
    assert any("multifactor" in u for u in users)
    # bulk-import groups: several users share one created_at == updated_at
    stamps = Counter(u["updated_at"] for u in users if u["created_at"] == u["updated_at"])
    assert sum(1 for n in stamps.values() if n >= 3) >= 3


def test_get_user_matches_truth_and_404_body(sb: Sandbox, api: requests.Session) -> None:
    truth = sb.truth()
    for u in truth[:5]:
        r = api.get(f"{sb.base_url}/api/v2/users/{requests.utils.quote(u['user_id'], safe='')}")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert r.json() == u
    r = api.get(f"{sb.base_url}/api/v2/users/auth0%7Cthis-user-id-does-not-exist")
    assert r.status_code == 404
    assert r.json() == USER_404


def test_include_totals_envelope_keys(sb: Sandbox, api: requests.Session) -> None:
    r = api.get(
        f"{sb.base_url}/api/v2/users",
        params={"include_totals": "true", "per_page": 50, "search_engine": "v3"},
    )
    body = r.json()
    assert list(body) == TOTALS_KEYS
    assert body["start"] == 0 and body["limit"] == 50 and body["length"] == 50
    assert body["total"] == len(sb.truth())


def test_ratelimit_headers_on_every_api_response(sb: Sandbox, api: requests.Session) -> None:
    urls = [
        (api, f"{sb.base_url}/api/v2/users"),
        (api, f"{sb.base_url}/api/v2/users/nope"),
        (requests, f"{sb.base_url}/api/v2/users"),  # 401
        (api, f"{sb.base_url}/api/v2/users?per_page=1000"),  # 400
    ]
    for client, url in urls:
        r = client.get(url)
        for name in RATELIMIT_HEADERS:
            assert r.headers[name].isdigit(), (name, r.status_code)


def test_export_job_keys_match_recordings(sb: Sandbox, api: requests.Session) -> None:
    conn = next(c for c in sb.connections if c["name"] == "Username-Password-Authentication")
    full = api.post(
        f"{sb.base_url}/api/v2/jobs/users-exports",
        json={
            "connection_id": conn["id"],
            "format": "json",
            "limit": 5,
            "fields": EXPORT_JOB_FULL["fields"],
        },
    ).json()
    assert list(full) == list(EXPORT_JOB_FULL)
    assert full["fields"] == EXPORT_JOB_FULL["fields"]
    assert full["connection"] == "Username-Password-Authentication"
    minimal = api.post(
        f"{sb.base_url}/api/v2/jobs/users-exports", json={"connection_id": conn["id"]}
    ).json()
    assert list(minimal) == list(EXPORT_JOB_MINIMAL)
    assert minimal["format"] == "csv" and minimal["id"].startswith("job_")
    assert TS.match(minimal["created_at"])


def test_token_response_has_recorded_keys(sb: Sandbox) -> None:
    r = requests.post(
        f"{sb.base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": "csecret",
            "audience": sb.audience,
        },
    )
    body = r.json()
    assert set(TOKEN_RESPONSE) <= set(body)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert body["scope"] == sb.config.scopes
    assert body["scope"].startswith("read:users read:connections read:roles")


def test_connections_have_con_ids(sb: Sandbox, api: requests.Session) -> None:
    r = api.get(f"{sb.base_url}/api/v2/connections")
    names = {c["name"]: c for c in r.json()}
    assert set(names) == {
        "Username-Password-Authentication",
        "google-oauth2",
        "github",
        "sms",
        "acme-saml",
        "contoso-waad",
    }
    assert all(c["id"].startswith("con_") and len(c["id"]) == 20 for c in names.values())
    r = api.get(
        f"{sb.base_url}/api/v2/connections", params={"name": "github", "include_totals": "true"}
    )
    assert r.json()["total"] == 1 and r.json()["connections"][0]["strategy"] == "github"
