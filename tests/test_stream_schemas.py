"""Every stream's schema against the real Auth0 answers in the recordings: each recorded
item validates and has the stream's keys (a child's parent key is taken from the request
path, as the tap adds it)."""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
import yaml

from tap_auth0.schemas import load_schema
from tap_auth0.streams.registry import STREAMS
from tap_auth0.tap import TapAuth0
from tests.support.paths import RECORDINGS

# stream -> (path pattern with named parent keys, envelope key; None = bare array or object)
ENDPOINTS = {
    "roles": (r"/api/v2/roles", "roles"),
    "role_permissions": (r"/api/v2/roles/(?P<role_id>[^/]+)/permissions", "permissions"),
    "role_members": (r"/api/v2/roles/(?P<role_id>[^/]+)/users", "users"),
    "organizations": (r"/api/v2/organizations", "organizations"),
    "organization_members": (
        r"/api/v2/organizations/(?P<organization_id>[^/]+)/members",
        "members",
    ),
    "organization_connections": (
        r"/api/v2/organizations/(?P<organization_id>[^/]+)/enabled_connections",
        "enabled_connections",
    ),
    "organization_invitations": (
        r"/api/v2/organizations/(?P<organization_id>[^/]+)/invitations",
        "invitations",
    ),
    "clients": (r"/api/v2/clients", "clients"),
    "client_grants": (r"/api/v2/client-grants", "client_grants"),
    "grants": (r"/api/v2/grants", "grants"),
    "resource_servers": (r"/api/v2/resource-servers", "resource_servers"),
    "connections": (r"/api/v2/connections", "connections"),
    "connection_clients": (r"/api/v2/connections/(?P<connection_id>[^/]+)/clients", "clients"),
    "actions": (r"/api/v2/actions/actions", "actions"),
    "log_streams": (r"/api/v2/log-streams", None),
    "user_permissions": (r"/api/v2/users/(?P<user_id>[^/]+)/permissions", "permissions"),
    "user_authentication_methods": (
        r"/api/v2/users/(?P<user_id>[^/]+)/authentication-methods",
        "authenticators",
    ),
    # The one recorded session list is empty: Get a Session's object has the same shape.
    "user_sessions": (r"/api/v2/(?:users/[^/]+/sessions|sessions/[^/]+)", "sessions"),
    "user_refresh_tokens": (r"/api/v2/users/(?P<user_id>[^/]+)/refresh-tokens", "tokens"),
    # Search and checkpoint answers, a user's logs and Get a Log: one event shape.
    "logs": (r"/api/v2/(?:logs(?:/[^/]+)?|users/[^/]+/logs)", "logs"),
    "stats_daily": (r"/api/v2/stats/daily", None),
}


@functools.cache
def tap() -> TapAuth0:
    return TapAuth0(config={"domain": "https://acme.us.auth0.com", "access_token": "T"})


@functools.cache
def interactions() -> list[dict]:
    found = []
    for path in sorted(RECORDINGS.glob("*/*.y*ml")):
        cassette = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found += cassette.get("interactions") or cassette.get("http_interactions") or []
    return found


def recorded_items(pattern: str, key: str | None) -> list[dict]:
    items: list[dict] = []
    for interaction in interactions():
        request, response = interaction["request"], interaction["response"]
        if request["method"].upper() != "GET":
            continue
        match = re.fullmatch(pattern, urlsplit(request.get("url") or request.get("uri")).path)
        status = response.get("code") or (response.get("status") or {}).get("code")
        body = response.get("body")
        text = body.get("string") if isinstance(body, dict) else body
        if not match or not text or not 200 <= int(status) < 300:
            continue
        answer = json.loads(text)
        if isinstance(answer, list):
            found = answer
        elif key in answer:
            found = answer[key]
        else:  # a single object (Get a Session, Get a Log)
            found = [answer] if "id" in answer or "log_id" in answer else []
        for item in found or []:
            parents = {k: unquote(v) for k, v in match.groupdict().items()}
            items.append({**parents, **item})
    return items


def test_every_stream_is_checked_here():
    # Checked elsewhere (users: tests/test_schemas.py) or rows the tap makes itself.
    made_here = {"users", "user_detail", "organization_member_roles", "stats_active_users"}
    expected = {s.name for s in STREAMS} - made_here
    assert set(ENDPOINTS) == expected


@pytest.mark.parametrize("stream", sorted(ENDPOINTS))
def test_recorded_answers_validate_against_the_stream_schema(stream):
    """What the tap emits for each recorded item (after its own post-processing)."""
    instance = tap().streams[stream]
    validator = jsonschema.Draft7Validator(load_schema(stream))
    items = recorded_items(*ENDPOINTS[stream])
    if not items:
        pytest.fail(f"no recorded answer for {stream}")
    for item in items:
        row = instance.post_process(item, None)
        assert row is not None
        errors = [e.message for e in validator.iter_errors(row)]
        assert not errors, f"{stream}: {errors[:3]} in {json.dumps(row)[:300]}"
        assert all(k in row for k in instance.primary_keys), f"{stream}: keys missing in {row}"
