"""Lucene clauses the users stream sends as `q` (search engine v3)."""

from __future__ import annotations

import typing as t


def quote(value: str) -> str:
    """A quoted Lucene term: backslash and double quote escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def range_clause(
    field: str,
    low: str | None,
    *,
    low_inclusive: bool = True,
    high: str | None = None,
    high_inclusive: bool = True,
) -> str:
    lo = quote(low) if low is not None else "*"
    hi = quote(high) if high is not None else "*"
    opening = "[" if low_inclusive or low is None else "{"
    closing = "]" if high_inclusive or high is None else "}"
    return f"{field}:{opening}{lo} TO {hi}{closing}"


def combine(*clauses: str | None) -> str:
    """AND the clauses, parenthesising each so a user's OR cannot escape."""
    parts = [c for c in clauses if c]
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({c})" for c in parts)


def connection_clause(name: str) -> str:
    return f"identities.connection:{quote(name)}"


def projection(
    fields: list[str] | None, include: bool, required: t.Sequence[str]
) -> dict[str, str]:
    """Auth0's fields/include_fields, widened so keys and bookmarks are always there."""
    if not fields:
        return {}
    if include:
        names = list(dict.fromkeys([*required, *fields]))
        return {"fields": ",".join(names), "include_fields": "true"}
    names = [f for f in fields if f not in required]
    if not names:
        return {}
    return {"fields": ",".join(names), "include_fields": "false"}
