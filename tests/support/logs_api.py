"""The sandbox's tenant-log API as the log tests use it: Auth0's log id and Link header
shapes, every recorded log event (to compare ours with), and a checkpoint walker."""

from __future__ import annotations

import re
from typing import Any

import requests
from auth0_sandbox import Sandbox

from tests.support.recordings import gets, ruby

LOG_ID = re.compile(r"^900(\d{14})(\d{6})\d{33}$")
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


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
