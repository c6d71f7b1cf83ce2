"""Shared bits for the tenant-log tests: recorded log answers (go-auth0 and ruby-auth0
cassettes, read from tests/fixtures/recordings only) and a checkpoint walker."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import requests
import yaml
from auth0_sandbox import Sandbox

from .recordings import gets

RUBY = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "ruby-auth0"
LOG_ID = re.compile(r"^900(\d{14})(\d{6})\d{33}$")
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


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


def recorded_events() -> list[dict[str, Any]]:
    """Every recorded log event (go 2023 shape first, then the ruby 2021 ones)."""
    events: list[dict[str, Any]] = []
    for name in ("TestLogManager_CheckpointPagination", "TestLogManager_Search"):
        for _, _, body in gets(name):
            events.extend(body if isinstance(body, list) else [body])
    for name in (
        "Logs__logs__from_should_take_one_log_entry.yml",
        "Users__user_logs_should_get_Logs_for_a_User_successfully.yml",
    ):
        for _, _, _, body in ruby(name):
            events.extend(body if isinstance(body, list) else [body])
    return events


def logs_url(sb: Sandbox) -> str:
    return f"{sb.base_url}/api/v2/logs"


def walk(
    s: requests.Session, sb: Sandbox, start: str = "0", take: int = 100
) -> tuple[list[dict[str, Any]], str, requests.Response]:
    """Follow ``from``/``take`` until an empty page: (events, last checkpoint, empty answer)."""
    out: list[dict[str, Any]] = []
    frm = start
    while True:
        r = s.get(logs_url(sb), params={"from": frm, "take": take})
        assert r.status_code == 200, r.text
        page = r.json()
        if not page:
            return out, frm, r
        out.extend(page)
        frm = page[-1]["log_id"]
