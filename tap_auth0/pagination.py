"""Auth0's two ways of paging a list, as paginators a stream declares.

- Offset: `page` / `per_page` / `include_totals`. Auth0 refuses to go past the first 1,000
  results (400), so a list that reaches the cap is an error naming the endpoint, never a
  silently short table.
- Checkpoint: `take`, then `from=<next>`. No cap. Auth0 may hand back a `next` whose page is
  empty, so a page stops the walk when it is empty *or* carries no `next`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_auth0.errors import Auth0APIError

Record = dict[str, t.Any]
# get(params) -> the decoded answer of one request
Get = t.Callable[[dict[str, t.Any]], t.Any]

OFFSET_CAP = 1000


def _unwrap(body: t.Any, key: str | None, what: str) -> list[Record]:
    """The list inside an answer: a bare array, or the envelope's `key`."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and key is not None:
        items = body.get(key)
        if isinstance(items, list):
            return items
        if items is None and not any(isinstance(v, list) for v in body.values()):
            return []
    raise Auth0APIError(f"{what}: answer without a '{key}' list ({type(body).__name__})")


class Paginator(t.Protocol):
    def pages(self, get: Get, key: str | None, what: str) -> t.Iterator[list[Record]]: ...


@dataclass(frozen=True)
class OffsetPaginator:
    """`page` 0, 1, ... of `per_page`; stops on a short page or at the reported total."""

    per_page: int = 100
    # Some endpoints always answer with totals and refuse the parameter (actions).
    totals_param: bool = True

    def pages(self, get: Get, key: str | None, what: str) -> t.Iterator[list[Record]]:
        page = 0
        seen = 0
        while True:
            params: dict[str, t.Any] = {"page": page, "per_page": self.per_page}
            if self.totals_param:
                params["include_totals"] = "true"
            body = get(params)
            items = _unwrap(body, key, what)
            total = body.get("total") if isinstance(body, dict) else None
            seen += len(items)
            if items:
                yield items
            done = len(items) < self.per_page or (isinstance(total, int) and seen >= total)
            if done:
                return
            if seen >= OFFSET_CAP:
                raise Auth0APIError(
                    f"{what} holds more than {OFFSET_CAP:,} results"
                    f"{f' ({total:,})' if isinstance(total, int) else ''}, and Auth0 pages "
                    f"this endpoint only by offset, which stops at {OFFSET_CAP:,}"
                )
            page += 1


@dataclass(frozen=True)
class CheckpointPaginator:
    """`take`, then `from=<next>` until a page has no `next` or is empty."""

    take: int = 100

    def pages(self, get: Get, key: str | None, what: str) -> t.Iterator[list[Record]]:
        params: dict[str, t.Any] = {"take": self.take}
        while True:
            body = get(dict(params))
            items = _unwrap(body, key, what)
            if not items:
                return
            yield items
            following = body.get("next") if isinstance(body, dict) else None
            if not following:
                return
            params["from"] = following


@dataclass(frozen=True)
class SinglePage:
    """Endpoints that answer everything at once (a bare array, no paging)."""

    def pages(self, get: Get, key: str | None, what: str) -> t.Iterator[list[Record]]:
        items = _unwrap(get({}), key, what)
        if items:
            yield items
