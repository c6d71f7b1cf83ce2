"""Config validation: each mistake names the setting, in one line."""

from __future__ import annotations

import re

import pytest

from tap_auth0.errors import ConfigError
from tap_auth0.settings import (
    normalize_domain,
    parse_field_list,
    parse_settings,
    unknown_settings,
)

BASE = {"domain": "acme.us.auth0.com", "access_token": "tok"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.us.auth0.com", "https://acme.us.auth0.com"),
        ("https://acme.us.auth0.com", "https://acme.us.auth0.com"),
        ("https://acme.us.auth0.com/", "https://acme.us.auth0.com"),
        ("https://acme.us.auth0.com/api/v2", "https://acme.us.auth0.com"),
        ("acme.us.auth0.com/api/v2/", "https://acme.us.auth0.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9", "http://localhost:9"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        (" login.acme.com ", "https://login.acme.com"),
    ],
)
def test_domain_spellings(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "'domain' is required"),
        ("http://acme.us.auth0.com", "plain http://"),
        ("http://10.0.0.1", "plain http://"),
        ("ftp://acme.us.auth0.com", "must use https://"),
        ("acme.us.auth0.com/users", "bare domain"),
        ("acme us auth0", "not a valid host name"),
        ("https://user:pw@acme.us.auth0.com", "credentials"),
        ("https://acme.us.auth0.com:99999", "not a valid domain"),
    ],
)
def test_bad_domains(raw, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.").replace("(", r"\(")) as info:
        normalize_domain(raw)
    assert "pw@" not in str(info.value), "a password typed into domain is never echoed"


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"access_token": None}, "No credentials"),
        ({"client_id": "a", "client_secret": "b"}, "not both"),
        ({"access_token": None, "client_id": "a"}, "'client_secret' is required"),
        ({"access_token": None, "client_secret": "b"}, "'client_id' is required"),
        ({"page_size": 0}, "'page_size' must be between 1 and 100"),
        ({"page_size": 101}, "'page_size' must be between 1 and 100"),
        ({"page_size": "ten"}, "'page_size' must be an integer"),
        ({"sort": "email:1"}, "'sort' must be one of updated_at:1, created_at:1"),
        ({"start_date": "yesterday"}, "'start_date' is not an ISO 8601"),
        ({"fields": "[bad json"}, "'fields' looks like a JSON array"),
        ({"fields": "email,na me"}, "'fields' has an invalid field name"),
        ({"user_ids": 5}, "'user_ids' must be a list"),
        ({"max_requests_per_second": 0}, "'max_requests_per_second' must be greater than 0"),
        ({"lookback_seconds": -1}, "'lookback_seconds' must be between"),
        ({"include_fields": "maybe"}, "'include_fields' must be true or false"),
        ({"audience": "not-a-url"}, "'audience' must be a URL"),
        ({"connection": 'a"b'}, "'connection' must be a connection name"),
    ],
)
def test_bad_settings_name_the_setting(override, fragment):
    config = {**BASE, **override}
    config = {k: v for k, v in config.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        parse_settings(config)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_defaults_and_normalisation():
    s = parse_settings({**BASE, "fields": '["email", "name", "email"]', "user_ids": "a|1, b|2"})
    assert s.base_url == "https://acme.us.auth0.com"
    assert s.audience == "https://acme.us.auth0.com/api/v2/"
    assert (s.page_size, s.include_totals, s.sort_field, s.lookback_seconds) == (
        100,
        True,
        "updated_at",
        300,
    )
    assert s.fields == ["email", "name"]
    assert s.user_ids == ["a|1", "b|2"]
    assert s.include_idp_tokens is False


def test_field_list_forms():
    assert parse_field_list("email, name", "fields") == ["email", "name"]
    assert parse_field_list(["email"], "fields") == ["email"]
    assert parse_field_list("", "fields") is None
    assert parse_field_list(None, "fields") is None


NO_TOKEN = {"domain": "acme.us.auth0.com"}


@pytest.mark.parametrize(
    ("config", "missing", "given"),
    [
        ({"domian": "acme.us.auth0.com", "access_token": "t"}, "domain", "domian"),
        ({**NO_TOKEN, "acess_token": "t"}, "access_token", "acess_token"),
        ({**NO_TOKEN, "client_id": "a", "clientsecret": "b"}, "client_secret", "clientsecret"),
    ],
)
def test_a_missing_setting_names_the_near_miss_that_was_given(config, missing, given):
    message = f"Setting '{missing}' is required (did you mean '{given}'?)"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        parse_settings(config)


def test_a_missing_setting_without_a_near_miss_keeps_its_own_message():
    with pytest.raises(ConfigError, match=r"'domain' is required, e\.g\. acme"):
        parse_settings({"access_token": "t", "tenant_region": "eu"})


SDK_KEYS = ("stream_maps", "stream_map_config", "flattening_enabled", "batch_config")


def test_unknown_settings_name_the_closest_known_one():
    config = {
        **BASE,
        "start_data": "2024-01-01",
        "PAGE-SIZE": 5,
        "colour": "red",
        "_note": "extras are left alone",
        **dict.fromkeys(SDK_KEYS),
    }
    assert unknown_settings(config, SDK_KEYS) == [
        "Setting 'start_data' is not a tap-auth0 setting and is ignored "
        "(did you mean 'start_date'?)",
        "Setting 'PAGE-SIZE' is not a tap-auth0 setting and is ignored (did you mean 'page_size'?)",
        "Setting 'colour' is not a tap-auth0 setting and is ignored",
    ]
    assert unknown_settings(BASE, ()) == []
