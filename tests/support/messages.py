"""Singer messages as the tap writes them, one JSON object a line."""

from __future__ import annotations

import json
import typing as t


def parse(stdout: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def records(messages: t.Iterable[dict], stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def record_ids(messages: t.Iterable[dict], stream: str) -> set[str]:
    return {r["user_id"] for r in records(messages, stream)}


def last_state(messages: t.Iterable[dict]) -> dict:
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]
