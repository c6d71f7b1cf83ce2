"""Prove the user schema against every real Auth0 user payload in the recordings.

The recordings come from Auth0's own SDK test suites, copied into tests/fixtures/recordings
(provenance in RECORDINGS.md there),
so they show what Auth0 really sends, which is what the schema must accept and keep intact.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_auth0.schemas import load_schema
from tests.support.paths import RECORDINGS

MIN_PAYLOADS = 50  # the ruby-auth0 list recording alone holds 50 users
DATE_TIME_FIELDS = (
    "created_at",
    "updated_at",
    "last_login",
    "last_password_reset",
    "multifactor_last_modified",
)
# Endpoints whose 2xx bodies are users: list/search, get/create/update one, search by email.
USER_PATH = re.compile(r"/api/v2/(?:users(?:/[^/]+)?|users-by-email)/?")
VALIDATORS = (jsonschema.Draft7Validator, jsonschema.Draft202012Validator)


@dataclass(frozen=True)
class UserPayload:
    """One user object found in a recording, with where it came from for error messages."""

    source: str
    method: str
    user: dict[str, Any]


@dataclass(frozen=True)
class Recordings:
    """All user payloads plus the recording files scanned and those that held users."""

    payloads: list[UserPayload]
    files_scanned: list[str]
    files_with_users: list[str]


# --- locating and parsing the recordings -----------------------------------------------------


def _response_text(body: Any) -> str | None:
    """Body text from go-vcr (plain string) or Ruby VCR (``string``/``base64_string``)."""
    if isinstance(body, dict):
        if "base64_string" in body:
            return base64.b64decode(body["base64_string"]).decode("utf-8")
        body = body.get("string")
    return body or None


def _status_code(response: dict[str, Any]) -> int:
    """Status from go-vcr (``code: 200``) or Ruby VCR (``status: {code: 200}``)."""
    if "code" in response:
        return int(response["code"])
    status = response["status"]
    return int(status["code"] if isinstance(status, dict) else str(status).split()[0])


def _users_in_body(body: Any) -> list[Any]:
    """Users from a bare list, an include_totals envelope, or a single user object."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and "users" in body and "user_id" not in body:
        return body["users"]
    return [body]


def _load_recordings(reference_dir: Path) -> Recordings:
    """Collect every user object from every 2xx user-endpoint response in the recordings."""
    payloads: list[UserPayload] = []
    scanned: list[str] = []
    with_users: list[str] = []
    for path in sorted(reference_dir.glob("*/*.y*ml")):
        name = path.relative_to(reference_dir).as_posix()
        scanned.append(name)
        cassette = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        interactions = cassette.get("interactions") or cassette.get("http_interactions") or []
        found_before = len(payloads)
        for index, interaction in enumerate(interactions):
            request, response = interaction["request"], interaction["response"]
            url = request.get("url") or request.get("uri") or ""
            text = _response_text(response.get("body"))
            if not (USER_PATH.fullmatch(urlsplit(url).path) and text):
                continue
            if not 200 <= _status_code(response) < 300:
                continue
            for position, user in enumerate(_users_in_body(json.loads(text))):
                assert isinstance(user, dict), f"{name}#{index}[{position}] is not an object"
                payloads.append(
                    UserPayload(f"{name}#{index}[{position}]", request["method"].upper(), user)
                )
        if len(payloads) > found_before:
            with_users.append(name)
    return Recordings(payloads, scanned, with_users)


@pytest.fixture(scope="module")
def recordings() -> Recordings:
    """Parse the recordings once per module; they are part of the repository."""
    if not RECORDINGS.is_dir():
        pytest.fail(f"Auth0 recordings missing: {RECORDINGS} is not a directory")
    return _load_recordings(RECORDINGS)


@pytest.fixture(scope="module")
def user_schema() -> dict[str, Any]:
    """The schema under test, loaded the same way the tap loads it."""
    return load_schema("user")


# --- date-time format checking ---------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def _is_rfc3339_date_time(value: object) -> bool:
    """RFC 3339 date-time check, since jsonschema skips date-time without rfc3339-validator."""
    if not isinstance(value, str):
        return True  # formats only constrain strings; the type keyword handles the rest
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    offset = match.group(7)
    bad_offset = offset not in ("Z", "z") and (int(offset[1:3]) > 23 or int(offset[4:]) > 59)
    if second > 60 or bad_offset:
        return False
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # 60 = leap second
    except ValueError:
        return False
    return True


def _format_checker() -> jsonschema.FormatChecker:
    """A private checker (never the shared class one) with a real date-time check."""
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(_is_rfc3339_date_time)
    return checker


def _validator(
    validator_class: type[jsonschema.protocols.Validator], schema: dict[str, Any]
) -> jsonschema.protocols.Validator:
    return validator_class(schema, format_checker=_format_checker())


def _as_json(value: Any) -> str:
    """Canonical JSON, so 1 vs 1.0 vs True or a dropped key all count as differences."""
    return json.dumps(value, sort_keys=True)


def _conform(user: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Run the SDK's own record conformance, as Stream._generate_record_messages does."""
    return conform_record_data_types(
        stream_name="users",
        record=copy.deepcopy(user),
        schema=schema,
        level=TypeConformanceLevel.RECURSIVE,
        logger=logging.getLogger("tests.test_schemas"),
    )


# --- the schema itself ------------------------------------------------------------------------


@pytest.mark.parametrize("validator_class", VALIDATORS, ids=lambda cls: cls.__name__)
def test_schema_is_valid_json_schema(
    user_schema: dict[str, Any], validator_class: type[jsonschema.protocols.Validator]
) -> None:
    """Draft 7 is what we promise; 2020-12 is what SDK-based targets validate with."""
    validator_class.check_schema(user_schema)


def test_schema_shape(user_schema: dict[str, Any]) -> None:
    """Pin the contract: user_id key, nullable fields, date-times, free-form metadata."""
    props = user_schema["properties"]
    identity_props = props["identities"]["items"]["properties"]
    assert user_schema["additionalProperties"] is True
    assert user_schema["required"] == ["user_id"]
    assert props["user_id"]["type"] == "string"
    for where, properties in (("user", props), ("identity", identity_props)):
        for name, prop in properties.items():
            if (where, name) != ("user", "user_id"):
                assert "null" in prop["type"], f"{where}.{name} must accept null"
    for name in DATE_TIME_FIELDS:
        assert props[name]["format"] == "date-time", name
    for name in ("app_metadata", "user_metadata"):
        assert props[name] == {
            "type": ["object", "null"],
            "additionalProperties": True,
            "description": props[name]["description"],
        }
    assert identity_props["user_id"]["type"] == ["string", "integer", "null"]
    assert "properties" not in identity_props["profileData"]


def test_load_schema_returns_fresh_copies() -> None:
    """Streams may edit their schema; that must not leak into the next load."""
    first = load_schema("user")
    first["properties"].clear()
    assert load_schema("user")["properties"]
    with pytest.raises(FileNotFoundError):
        load_schema("no_such_schema")
    with pytest.raises(ValueError):
        load_schema("../user")


def test_date_time_format_is_really_checked(user_schema: dict[str, Any]) -> None:
    """Guard against format checking silently doing nothing (jsonschema's default here)."""
    assert _is_rfc3339_date_time("2021-09-03T10:11:12.345Z")
    assert _is_rfc3339_date_time("2021-09-03T10:11:12+02:00")
    for bad in ("yesterday", "2021-09-03", "2021-02-30T00:00:00Z", "2021-09-03T10:11:12"):
        assert not _is_rfc3339_date_time(bad), bad
    validator = _validator(jsonschema.Draft7Validator, user_schema)
    assert not validator.is_valid({"user_id": "auth0|x", "created_at": "not a date"})


# --- against the real recordings ---------------------------------------------------------------


def test_enough_recorded_users_found(
    recordings: Recordings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fail loudly if the extraction silently finds (almost) nothing."""
    methods = Counter(payload.method for payload in recordings.payloads)
    with capsys.disabled():
        print(
            f"\n[test_schemas] checked {len(recordings.payloads)} user payloads "
            f"({', '.join(f'{m} {n}' for m, n in sorted(methods.items()))}) from "
            f"{len(recordings.files_with_users)} of {len(recordings.files_scanned)} "
            "recording files"
        )
    assert len(recordings.payloads) >= MIN_PAYLOADS, recordings.files_with_users


@pytest.mark.parametrize("validator_class", VALIDATORS, ids=lambda cls: cls.__name__)
def test_every_recorded_user_validates(
    recordings: Recordings,
    user_schema: dict[str, Any],
    validator_class: type[jsonschema.protocols.Validator],
) -> None:
    """Every real user must be accepted, date-time formats included."""
    validator = _validator(validator_class, user_schema)
    errors = [
        f"{payload.source}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for payload in recordings.payloads
        for error in validator.iter_errors(payload.user)
    ]
    assert not errors, "\n".join(errors)


def test_every_recorded_field_is_declared(
    recordings: Recordings, user_schema: dict[str, Any]
) -> None:
    """A real field missing from the schema would be invisible to catalog selection."""
    declared = set(user_schema["properties"])
    declared_identity = set(user_schema["properties"]["identities"]["items"]["properties"])
    undeclared: Counter[str] = Counter()
    for payload in recordings.payloads:
        undeclared.update(set(payload.user) - declared)
        for identity in payload.user.get("identities") or []:
            undeclared.update(f"identities[].{key}" for key in set(identity) - declared_identity)
    assert not undeclared, f"recorded fields not in the schema: {dict(undeclared)}"


def test_sdk_conformance_keeps_every_recorded_value(
    recordings: Recordings, user_schema: dict[str, Any]
) -> None:
    """The SDK must emit each real user exactly as Auth0 sent it: no key dropped, no retyping."""
    changed = [
        payload.source
        for payload in recordings.payloads
        if _as_json(_conform(payload.user, user_schema)) != _as_json(payload.user)
    ]
    assert not changed, f"conformance altered: {changed}"


# --- shapes Auth0 documents but the recordings lack ---------------------------------------------

SYNTHETIC_SOCIAL_USER: dict[str, Any] = {
    "user_id": "github|1234567",
    "email": None,
    "email_verified": None,
    "created_at": "2021-09-03T10:11:12.345Z",
    "updated_at": "2021-09-03T10:11:12.345Z",
    "last_password_reset": None,
    "locale": "en",
    "multifactor": ["guardian"],
    "logins_count": 3,
    "app_metadata": None,
    "user_metadata": {"nested": {"list": [1, 2.5, None, True]}},
    "identities": [
        {
            "connection": "github",
            "user_id": 1234567,
            "provider": "github",
            "isSocial": True,
            "access_token": "token",
            "expires_in": 3600,
            "profileData": {"login": "octo", "id": 1234567},
            "some_future_field": {"kept": True},
        }
    ],
    "some_future_field": 0,
}


def test_synthetic_social_user_with_integer_identity_id(user_schema: dict[str, Any]) -> None:
    """Integer identity ids, nulls and unknown keys (documented, not recorded) survive too."""
    validator = _validator(jsonschema.Draft7Validator, user_schema)
    assert not list(validator.iter_errors(SYNTHETIC_SOCIAL_USER))
    conformed = _conform(SYNTHETIC_SOCIAL_USER, user_schema)
    assert _as_json(conformed) == _as_json(SYNTHETIC_SOCIAL_USER)
    assert isinstance(conformed["identities"][0]["user_id"], int)
