"""The search side of the tenant: compiled predicates over per-field sorted indexes.

Why indexes: benchmarks page through 100k-200k users with ``q=updated_at:{ts TO *] AND ...``
sorted by the same field. We bisect the sorted index at the range bound, walk it lazily in sort
order, test the remaining predicate per candidate and stop once the page is full, so the cost is
proportional to the page, not the tenant. ``total`` is only computed when asked for (by bisect
counts when the query is just a range/term on the sort field).

Ties on the sort key are broken by a seeded per-user hash (``tie``), so equal ``updated_at``
values do NOT come back in user_id or insertion order - as with Auth0, only a sort on user_id
gives user_id order.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import fields as F
from .lucene import And, Exists, MatchAll, Node, Not, Or, QueryError, Range, Term

Doc = dict[str, Any]
Pred = Callable[[Doc], bool]
ORDER = "_order"  # pseudo sort field: the default (tie) order


def compile_query(node: Node) -> Pred:
    """Turn a parsed query into a predicate over user docs (raises QueryError)."""
    if isinstance(node, MatchAll):
        return lambda d: True
    if isinstance(node, Exists):
        path = node.field
        if path not in F.NESTED_ROOTS:
            F.kind_of(path)  # validates the field name
        return lambda d: F.exists(d, path)
    if isinstance(node, Term):
        if node.field is None:
            preds = [compile_query(Term(f, node.text, node.phrase, node.pattern))
                     for f in F.DEFAULT_FIELDS
                     if node.pattern is None or F.kind_of(f) in (F.TEXT, F.CI_TEXT)]
            return lambda d: any(p(d) for p in preds)
        path = node.field
        if node.pattern is not None:
            match = F.wildcard_matcher(path, node.pattern)
        else:
            match, _ = F.term_matcher(path, node.text)
        return _any_value(path, match)
    if isinstance(node, Range):
        path = node.field
        bounds, conv = F.range_bounds(path, node.lo, node.hi, node.lo_incl, node.hi_incl)
        return _any_value(path, _range_match(bounds, conv))
    if isinstance(node, And):
        preds = [compile_query(c) for c in node.children]
        if len(preds) == 2:
            a, b = preds
            return lambda d: a(d) and b(d)
        return lambda d: all(p(d) for p in preds)
    if isinstance(node, Or):
        preds = [compile_query(c) for c in node.children]
        return lambda d: any(p(d) for p in preds)
    if isinstance(node, Not):
        inner = compile_query(node.child)
        return lambda d: not inner(d)
    raise QueryError(f"unsupported query node {node!r}")  # pragma: no cover


def _range_match(bounds: F.Bounds, conv: Callable[[Any], Any]) -> Callable[[Any], bool]:
    def match(v: Any) -> bool:
        k = conv(v)
        if k is None:
            return False
        try:
            return F.in_bounds(k, bounds)
        except TypeError:
            return False

    return match


def _any_value(path: str, match: Callable[[Any], bool]) -> Pred:
    if path in F.ROOT_KINDS:
        def root(d: Doc) -> bool:
            v = d.get(path)
            if v is None:
                return False
            if isinstance(v, list):
                return any(match(x) for x in v)
            return match(v)
        return root
    return lambda d: any(match(v) for v in F.values(d, path))


def sort_bounds(node: Node, field: str) -> tuple[F.Bounds | None, bool]:
    """Bounds on ``field`` implied by top-level AND-ed clauses, and whether the query is
    nothing but such clauses (then a bisect count gives the total)."""
    clauses = node.children if isinstance(node, And) else (node,)
    found: list[F.Bounds] = []
    only = True
    for c in clauses:
        if isinstance(c, Range) and c.field == field:
            found.append(F.range_bounds(field, c.lo, c.hi, c.lo_incl, c.hi_incl)[0])
        elif isinstance(c, Term) and c.field == field and c.pattern is None:
            found.append(F.term_matcher(field, c.text)[1])
        else:
            only = False
    if not found:
        return None, False
    return _intersect(found), only


def _intersect(bs: list[F.Bounds]) -> F.Bounds:
    lo, hi, lo_incl, hi_incl = None, None, True, True
    for blo, bhi, bli, bhi_i in bs:
        if blo is not None and (lo is None or blo > lo or (blo == lo and not bli)):
            lo, lo_incl = blo, bli
        if bhi is not None and (hi is None or bhi < hi or (bhi == hi and not bhi_i)):
            hi, hi_incl = bhi, bhi_i
    return lo, hi, lo_incl, hi_incl


def tie_of(seed: int, user_id: str) -> int:
    """Seeded per-user tie breaker: stable, but unrelated to user_id or insertion order."""
    h = hashlib.blake2b(f"{seed}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big")


class SortedField:
    """Entries ``(key, tie, user_id)`` for docs with a key, plus ``(tie, user_id)`` for the
    rest; kept sorted so ranges are a bisect away and changes are an insort/delete."""

    def __init__(self, field: str, docs: dict[str, Doc], ties: dict[str, int]) -> None:
        self.field = field
        self.key = (lambda d: 0) if field == ORDER else F.sort_key(field)
        present, missing = [], []
        for uid, doc in docs.items():
            k = self.key(doc)
            if k is None:
                missing.append((ties[uid], uid))
            else:
                present.append((k, ties[uid], uid))
        present.sort()
        missing.sort()
        self.entries: list[tuple[Any, int, str]] = present
        self.missing: list[tuple[int, str]] = missing

    def remove(self, uid: str, doc: Doc, tie: int) -> None:
        k = self.key(doc)
        if k is None:
            lst: list[Any] = self.missing
            item: tuple[Any, ...] = (tie, uid)
        else:
            lst, item = self.entries, (k, tie, uid)
        i = bisect.bisect_left(lst, item)
        if i < len(lst) and lst[i] == item:
            del lst[i]

    def add(self, uid: str, doc: Doc, tie: int) -> None:
        k = self.key(doc)
        if k is None:
            bisect.insort(self.missing, (tie, uid))
        else:
            try:
                bisect.insort(self.entries, (k, tie, uid))
            except TypeError:  # a value of another type (e.g. caller set a str count)
                bisect.insort(self.missing, (tie, uid))

    def span(self, b: F.Bounds | None) -> tuple[int, int]:
        """Index range of entries within bounds."""
        if b is None:
            return 0, len(self.entries)
        lo, hi, lo_incl, hi_incl = b
        e = self.entries
        try:
            if lo is None:
                i = 0
            elif lo_incl:
                i = bisect.bisect_left(e, lo, key=_first)
            else:
                i = bisect.bisect_right(e, lo, key=_first)
            if hi is None:
                j = len(e)
            elif hi_incl:
                j = bisect.bisect_right(e, hi, key=_first)
            else:
                j = bisect.bisect_left(e, hi, key=_first)
        except TypeError:
            raise QueryError(f"range bound type does not match field '{self.field}'") from None
        return i, max(i, j)

    def walk(self, b: F.Bounds | None, descending: bool) -> Iterator[str]:
        """User ids in sort order (missing keys last either way)."""
        i, j = self.span(b)
        e = self.entries
        rng = range(j - 1, i - 1, -1) if descending else range(i, j)
        for k in rng:
            yield e[k][2]
        if b is None:
            for _, uid in self.missing:
                yield uid


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


@dataclass
class SearchResult:
    docs: list[Doc]
    total: int | None


class SearchIndex:
    """What search sees: its own doc snapshot (may lag the primary store) and sorted fields."""

    def __init__(self, seed: int, docs: list[Doc]) -> None:
        self.seed = seed
        self.docs: dict[str, Doc] = {d["user_id"]: d for d in docs}
        self.ties: dict[str, int] = {uid: tie_of(seed, uid) for uid in self.docs}
        self.sorted: dict[str, SortedField] = {}

    def field(self, name: str) -> SortedField:
        sf = self.sorted.get(name)
        if sf is None:
            sf = self.sorted[name] = SortedField(name, self.docs, self.ties)
        return sf

    def put(self, uid: str, doc: Doc | None) -> None:
        """Apply one change (doc None = deleted) to the snapshot and every built index."""
        old = self.docs.get(uid)
        tie = self.ties.get(uid)
        if tie is None:
            tie = self.ties[uid] = tie_of(self.seed, uid)
        for sf in self.sorted.values():
            if old is not None:
                sf.remove(uid, old, tie)
            if doc is not None:
                sf.add(uid, doc, tie)
        if doc is None:
            self.docs.pop(uid, None)
        else:
            self.docs[uid] = doc

    def search(self, node: Node | None, sort_field: str, descending: bool, offset: int,
               limit: int, want_total: bool) -> SearchResult:
        """One page of matches in sort order, plus the total match count if wanted."""
        sf = self.field(sort_field)
        pred = compile_query(node) if node is not None else None
        bounds, only = (None, False) if node is None else sort_bounds(node, sort_field)
        need = offset + limit
        found: list[Doc] = []
        docs = self.docs
        if pred is None:
            total: int | None = len(docs) if want_total else None
            for uid in sf.walk(None, descending):
                if len(found) >= need:
                    break
                found.append(docs[uid])
            return SearchResult(found[offset:need], total)
        if want_total and only:
            i, j = sf.span(bounds)
            total = j - i
            want_total = False
        else:
            total = 0 if want_total else None
        count = 0
        for uid in sf.walk(bounds, descending):
            doc = docs[uid]
            if pred(doc):
                count += 1
                if len(found) < need:
                    found.append(doc)
                elif not want_total:
                    break
        if want_total:
            total = count
        return SearchResult(found[offset:need], total)
