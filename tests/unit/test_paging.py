"""Offset and checkpoint paginators: where they stop, and the 1,000-result cap."""

from __future__ import annotations

import pytest

from tap_auth0.errors import Auth0APIError
from tap_auth0.pagination import CheckpointPaginator, OffsetPaginator, SinglePage


def offset_api(n: int, *, total: bool = True, key: str = "roles"):
    calls: list[dict] = []

    def get(params: dict) -> dict:
        calls.append(params)
        start = params["page"] * params["per_page"]
        items = [{"id": i} for i in range(start, min(start + params["per_page"], n))]
        body = {key: items, "start": start, "limit": params["per_page"]}
        if total:
            body["total"] = n
        return body

    return get, calls


def walk(paginator, get, key="roles") -> list[int]:
    return [r["id"] for page in paginator.pages(get, key, "GET /x") for r in page]


@pytest.mark.parametrize("n", [0, 1, 99, 100, 101, 250, 1000])
def test_offset_reads_everything_up_to_the_cap(n):
    get, calls = offset_api(n)
    assert walk(OffsetPaginator(), get) == list(range(n))
    # A total ends the walk without asking for an empty page.
    assert len(calls) == max(1, -(-n // 100))


def test_offset_without_total_stops_on_a_short_page():
    get, calls = offset_api(150, total=False, key="invitations")
    assert walk(OffsetPaginator(), get, "invitations") == list(range(150))
    assert [c["page"] for c in calls] == [0, 1]


def test_offset_past_the_cap_is_an_error_not_a_short_table():
    get, _ = offset_api(1500)
    with pytest.raises(Auth0APIError, match=r"GET /x holds more than 1,000 results \(1,500\)"):
        walk(OffsetPaginator(), get)


def test_offset_accepts_a_bare_array():
    pages = iter([[{"id": 1}, {"id": 2}]])
    assert walk(OffsetPaginator(), lambda p: next(pages)) == [1, 2]


def checkpoint_api(n: int, *, empty_tail: bool, key: str = "members"):
    calls: list[dict] = []

    def get(params: dict) -> dict:
        calls.append(params)
        start = int(params.get("from", "0"))
        items = [{"id": i} for i in range(start, min(start + params["take"], n))]
        body: dict = {key: items}
        end = start + len(items)
        if end < n or (empty_tail and items):
            body["next"] = str(end)
        return body

    return get, calls


@pytest.mark.parametrize("n", [0, 1, 100, 250, 2500])
@pytest.mark.parametrize("empty_tail", [False, True])
def test_checkpoint_follows_next_and_stops_on_missing_next_or_empty_page(n, empty_tail):
    get, calls = checkpoint_api(n, empty_tail=empty_tail)
    assert walk(CheckpointPaginator(), get, "members") == list(range(n))
    assert calls[0] == {"take": 100}
    assert all(c["from"] for c in calls[1:])
    pages = -(-n // 100)
    assert len(calls) == max(1, pages + (1 if empty_tail and n else 0))


def test_single_page():
    assert walk(SinglePage(), lambda p: [{"id": 7}], None) == [7]


def test_answer_without_the_envelope_key_is_an_error():
    with pytest.raises(Auth0APIError, match="answer without a 'roles' list"):
        walk(OffsetPaginator(), lambda p: {"users": [], "total": 0})
