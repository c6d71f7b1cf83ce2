from __future__ import annotations

import pytest

from tap_auth0.streams.log_types import EVENT_NAMES, type_name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("s", "Success Login"),
        ("ss", "Success Signup"),
        ("f", "Failed Login"),
        ("fp", "Failed Login (Incorrect Password)"),
        ("fu", "Failed Login (Invalid Email/Username)"),
        ("seccft", "Success Exchange"),
        ("sapi", "Success API Operation"),
        # Auth0's docs spell it with a lower-case "read".
        ("mgmt_api_read", "Management API read Operation"),
        ("limit_wc", "Blocked Account"),
        ("gd_auth_succeed", "MFA Auth success"),
    ],
)
def test_known_codes(code: str, name: str) -> None:
    assert type_name(code) == name


@pytest.mark.parametrize("code", ["no_such_code", "", "S", None, 1, ["s"]])
def test_unknown_codes_give_none(code: object) -> None:
    assert type_name(code) is None


def test_table_is_broad_and_sorted() -> None:
    assert len(EVENT_NAMES) >= 80
    assert list(EVENT_NAMES) == sorted(EVENT_NAMES)
    assert all(name and name == name.strip() for name in EVENT_NAMES.values())
