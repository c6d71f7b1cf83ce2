"""Auth0's own SDK cassettes in tests/fixtures/recordings (go-auth0 and ruby-auth0), read as
parsed answers, and the check that ours have the recorded shape: the ground truth the
sandbox is held to."""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from typing import Any

import yaml

from tests.support.paths import RECORDINGS

GO = RECORDINGS / "go-auth0"
RUBY = RECORDINGS / "ruby-auth0"
CURSOR = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}UTC,(.+)$")


@cache
def _load(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((GO / f"{name}.yaml").read_text())
    return data["interactions"]


def gets(name: str) -> list[tuple[str, int, Any]]:
    """(url, status, body) of every GET in the cassette ``name`` (without .yaml)."""
    out = []
    for i in _load(name):
        if i["request"]["method"] == "GET":
            out.append(
                (i["request"]["url"], i["response"]["code"], json.loads(i["response"]["body"]))
            )
    return out


def body(name: str, n: int = 0) -> Any:
    """The n-th GET answer of a cassette."""
    return gets(name)[n][2]


@cache
def ruby(name: str) -> list[tuple[str, int, dict[str, str], Any]]:
    """(uri, status, headers with one value each, parsed body) of a ruby-auth0 cassette."""
    data = yaml.safe_load((RUBY / name).read_text())
    out = []
    for i in data["http_interactions"]:
        resp = i["response"]
        headers = {k: " ".join(v) for k, v in resp["headers"].items()}
        out.append(
            (
                i["request"]["uri"],
                resp["status"]["code"],
                headers,
                json.loads(resp["body"]["string"]),
            )
        )
    return out


def cursor_id(token: str) -> str:
    """The id inside an Auth0 ``next`` (base64 of ``<timestamp>UTC,<id>``); AssertionError
    if it is not shaped like one."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    m = CURSOR.match(raw)
    assert m, raw
    return m.group(1)


def assert_like(ours: Any, recorded: Any, path: str = "$") -> None:
    """Every key of the recorded value is in ours with the same JSON type, recursively
    (lists: each of our items against the first recorded item)."""
    assert type(ours) is type(recorded), (
        f"{path}: {type(ours).__name__} != {type(recorded).__name__}"
    )
    if isinstance(recorded, dict):
        for k, v in recorded.items():
            assert k in ours, f"{path}.{k} missing (ours: {sorted(ours)})"
            assert_like(ours[k], v, f"{path}.{k}")
    elif isinstance(recorded, list) and recorded:
        for i, item in enumerate(ours):
            assert_like(item, recorded[0], f"{path}[{i}]")
