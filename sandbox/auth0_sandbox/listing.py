"""List answers, as Auth0 shapes them: an offset page ``{<key>, start, limit, total}`` (or a
bare array without ``include_totals``) and a checkpoint page ``{<key>, next?}``; shared by the
directory (roles, organizations) and tenant (clients, grants, APIs) handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .directory import Seq
from .messages import Response, json_response
from .paging import check_cap, decode_cursor, encode_cursor, int_param, is_checkpoint, page_params

Doc = dict[str, Any]


def offset_page(
    q: dict[str, str],
    items: list[Any],
    key: str,
    render: Callable[[Any], Doc],
    *,
    cap: bool = False,
    with_total: bool = True,
    limit_is_count: bool = False,
) -> Response:
    page, per_page, totals = page_params(q)
    if cap:
        check_cap(page, per_page)
    window = [render(x) for x in items[page * per_page : (page + 1) * per_page]]
    if not totals:
        return json_response(200, window)
    body: Doc = {
        key: window,
        "start": page * per_page,
        "limit": len(window) if limit_is_count else per_page,
    }
    if with_total:
        body["total"] = len(items)
    return json_response(200, body)


def list_page(q: dict[str, str], seq: Seq, key: str, render: Callable[[str], Doc]) -> Response:
    """Offset (1,000 cap) or, once ``take`` is sent, checkpoint paging over ``seq``."""
    if not is_checkpoint(q):
        return offset_page(q, seq.ids(), key, render, cap=True)
    take = int_param(q, "take", 50, 1, 100)
    start = decode_cursor(q["from"]) if q.get("from") else None
    keys = seq.after(start, take)
    body: Doc = {key: [render(k[1]) for k in keys]}
    if len(keys) == take:  # a full page always points on, even when nothing follows
        body["next"] = encode_cursor(*keys[-1])
    return json_response(200, body)
