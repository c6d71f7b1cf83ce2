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
import itertools
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
            preds = [
                compile_query(Term(f, node.text, node.phrase, node.pattern))
                for f in F.DEFAULT_FIELDS
                if node.pattern is None or F.kind_of(f) in (F.TEXT, F.CI_TEXT)
            ]
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


def conjuncts(node: Node) -> list[Node]:
    """Top-level AND-ed clauses (nested ANDs and parentheses flattened)."""
    if isinstance(node, And):
        return [c for child in node.children for c in conjuncts(child)]
    return [node]


def field_bounds(clauses: list[Node]) -> tuple[dict[str, F.Bounds], bool]:
    """Per sortable field, the key-space bounds implied by range/term clauses; and whether
    every clause is such a bound on one single field (then a bisect count is the total)."""
    found: dict[str, list[F.Bounds]] = {}
    plain = True
    for c in clauses:
        if isinstance(c, Range) and c.field in F.SORTABLE and F.ROOT_KINDS[c.field] != F.BOOL:
            b = F.range_bounds(c.field, c.lo, c.hi, c.lo_incl, c.hi_incl)[0]
            found.setdefault(c.field, []).append(b)
        elif (
            isinstance(c, Term)
            and c.field in F.SORTABLE
            and c.pattern is None
            and F.ROOT_KINDS[c.field] != F.BOOL
        ):  # booleans never narrow enough
            found.setdefault(c.field, []).append(F.term_matcher(c.field, c.text)[1])
        else:
            plain = False
    return {f: _intersect(bs) for f, bs in found.items()}, plain and len(found) == 1


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
        if k is not None:
            try:
                item = (k, tie, uid)
                i = bisect.bisect_left(self.entries, item)
                if i < len(self.entries) and self.entries[i] == item:
                    del self.entries[i]
                    return
            except TypeError:
                pass
        # Not keyed (or keyed with an odd type that add() parked here).
        i = bisect.bisect_left(self.missing, (tie, uid))
        if i < len(self.missing) and self.missing[i] == (tie, uid):
            del self.missing[i]

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


def _candidates_cheaper(candidates: int, scan: int, need: int, want_total: bool) -> bool:
    """Cost model: a walk over ``scan`` docs stops after ~need*scan/candidates docs (unless a
    total is wanted); the candidate plan tests and sorts ``candidates`` docs."""
    if candidates >= scan:
        return False
    walk = scan if want_total else min(scan, need * scan / max(candidates, 1))
    return candidates * 1.5 < walk


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

    def search(
        self,
        node: Node | None,
        sort_field: str,
        descending: bool,
        offset: int,
        limit: int,
        want_total: bool,
    ) -> SearchResult:
        """One page of matches in sort order, plus the total match count if wanted.

        Plans: walk the sort field's index from the bisected range bound, testing each doc
        (cost ~ page size when matches are common); or, when another field's range/term
        selects few enough docs, test just those and sort them (see _candidates_cheaper).
        """
        sort_sf = self.field(sort_field)
        docs = self.docs
        need = offset + limit
        if node is None:
            found = [docs[uid] for uid in itertools.islice(sort_sf.walk(None, descending), need)]
            return SearchResult(found[offset:], len(docs) if want_total else None)
        pred = compile_query(node)
        bounds, single = field_bounds(conjuncts(node))
        sort_b = bounds.get(sort_field)
        if sort_b is not None:
            i, j = sort_sf.span(sort_b)
            if want_total and single:
                walked = self._walk(sort_sf, sort_b, descending, pred, need)
                return SearchResult(walked[offset:], j - i)
            scan_size = j - i
        else:
            scan_size = len(docs)
        best: tuple[int, SortedField, F.Bounds] | None = None
        for name, b in bounds.items():
            if name != sort_field:
                sf = self.field(name)
                a, z = sf.span(b)
                if best is None or z - a < best[0]:
                    best = (z - a, sf, b)
        if best is not None and _candidates_cheaper(best[0], scan_size, need, want_total):
            matches = [docs[uid] for uid in best[1].walk(best[2], False) if pred(docs[uid])]
            ordered = self._order(matches, sort_sf, descending)
            return SearchResult(ordered[offset:need], len(matches) if want_total else None)
        if not want_total:
            return SearchResult(self._walk(sort_sf, sort_b, descending, pred, need)[offset:], None)
        total = 0
        found = []
        for uid in sort_sf.walk(sort_b, descending):
            doc = docs[uid]
            if pred(doc):
                total += 1
                if len(found) < need:
                    found.append(doc)
        return SearchResult(found[offset:], total)

    def _walk(
        self, sf: SortedField, b: F.Bounds | None, descending: bool, pred: Pred, need: int
    ) -> list[Doc]:
        docs = self.docs
        found: list[Doc] = []
        if need <= 0:
            return found
        for uid in sf.walk(b, descending):
            doc = docs[uid]
            if pred(doc):
                found.append(doc)
                if len(found) >= need:
                    break
        return found

    def _order(self, matches: list[Doc], sf: SortedField, descending: bool) -> list[Doc]:
        """Sort a small candidate set exactly like walking ``sf`` would."""
        ties = self.ties
        present, missing = [], []
        for d in matches:
            k = sf.key(d)
            uid = d["user_id"]
            if k is None:
                missing.append((ties[uid], uid, d))
            else:
                present.append((k, ties[uid], uid, d))
        try:
            present.sort(key=lambda e: e[:3], reverse=descending)
        except TypeError:  # mixed key types after odd updates; keep it deterministic
            present.sort(key=lambda e: (str(e[0]), e[1], e[2]), reverse=descending)
        missing.sort(key=lambda e: e[:2])
        return [e[3] for e in present] + [e[2] for e in missing]
