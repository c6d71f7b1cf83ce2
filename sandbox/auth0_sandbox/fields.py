"""What each searchable user field is: its type, case rule, and how values compare.

One place decides how a doc value and a query value become comparable keys, so matching,
ranges, sorting and index bisection all agree (e.g. case-insensitive fields lower-case both
sides, dates compare as canonical ISO-ms strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .lucene import QueryError
from .timeutil import parse_instant

DATE, NUMBER, BOOL, TEXT, CI_TEXT, META = "date", "number", "bool", "text", "ci_text", "meta"

ROOT_KINDS: dict[str, str] = {
    "created_at": DATE,
    "updated_at": DATE,
    "last_login": DATE,
    "last_password_reset": DATE,
    "logins_count": NUMBER,
    "blocked": BOOL,
    "email_verified": BOOL,
    "phone_verified": BOOL,
    "email": CI_TEXT,
    "name": CI_TEXT,
    "given_name": CI_TEXT,
    "family_name": CI_TEXT,
    "nickname": CI_TEXT,
    "user_id": TEXT,
    "username": TEXT,
    "phone_number": TEXT,
    "last_ip": TEXT,
}
NESTED_ROOTS = ("identities", "app_metadata", "user_metadata")
SORTABLE = frozenset(ROOT_KINDS)
DEFAULT_FIELDS = (
    "user_id",
    "email",
    "name",
    "nickname",
    "username",
    "given_name",
    "family_name",
    "phone_number",
)


def kind_of(path: str) -> str:
    """The kind of a query field path, or QueryError if Auth0 would not search it."""
    if path in ROOT_KINDS:
        return ROOT_KINDS[path]
    if path == "email.domain":
        return CI_TEXT
    root = path.split(".", 1)[0]
    if root in ("app_metadata", "user_metadata"):
        return META
    if root == "identities" and "." in path:
        return TEXT
    if root in NESTED_ROOTS:
        raise QueryError(f"field '{path}' needs a sub-field, e.g. {root}.<name>")
    raise QueryError(f"field '{path}' is not searchable")


def values(doc: dict[str, Any], path: str) -> list[Any]:
    """All scalar values at ``path`` (lists flattened, like Elasticsearch arrays)."""
    if path in ROOT_KINDS:
        v = doc.get(path)
        if v is None:
            return []
        return v if isinstance(v, list) else [v]
    if path == "email.domain":
        email = doc.get("email")
        if isinstance(email, str) and "@" in email:
            return [email.rsplit("@", 1)[1]]
        return []
    current: list[Any] = [doc]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, dict) and part in item:
                v = item[part]
                if isinstance(v, list):
                    nxt.extend(v)
                else:
                    nxt.append(v)
        current = nxt
        if not current:
            return []
    return [v for v in current if v is not None]


def exists(doc: dict[str, Any], path: str) -> bool:
    """``_exists_`` semantics: a non-null value (objects count) is present."""
    if path in NESTED_ROOTS or path in ROOT_KINDS:
        v = doc.get(path)
        return v is not None and v != [] and v != {}
    return bool(values(doc, path))


def text_of(v: Any) -> str | None:
    """A scalar's string form as a keyword index would store it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return None


def number_of(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return v


def _num(text: str, path: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise QueryError(f"'{text}' is not a number (field '{path}')") from None


def key_func(path: str) -> Callable[[Any], Any]:
    """Convert one doc value into the comparable key for ``path`` (None = not comparable)."""
    kind = kind_of(path)
    if kind == DATE:
        return lambda v: v if isinstance(v, str) else None
    if kind == NUMBER:
        return number_of
    if kind == BOOL:
        return lambda v: int(v) if isinstance(v, bool) else None
    if kind == CI_TEXT:
        return lambda v: t.lower() if (t := text_of(v)) is not None else None
    return text_of


def sort_key(path: str) -> Callable[[dict[str, Any]], Any]:
    """Key of a whole doc for sorting on root field ``path`` (None = missing, sorts last)."""
    conv = key_func(path)

    def key(doc: dict[str, Any]) -> Any:
        v = doc.get(path)
        return None if v is None or isinstance(v, list | dict) else conv(v)

    return key


Bounds = tuple[Any, Any, bool, bool]  # lo, hi, lo_incl, hi_incl in key space


def range_bounds(
    path: str, lo: str | None, hi: str | None, lo_incl: bool, hi_incl: bool
) -> tuple[Bounds, Callable[[Any], Any]]:
    """Query range -> (bounds in key space, value->key converter)."""
    kind = kind_of(path)
    if kind == DATE:
        try:
            klo = None if lo is None else parse_instant(lo, round_up=not lo_incl)
            khi = None if hi is None else parse_instant(hi, round_up=hi_incl)
        except ValueError:
            raise QueryError(f"invalid date in range on '{path}'") from None
        return (klo, khi, lo_incl, hi_incl), key_func(path)
    if kind == NUMBER:
        klo = None if lo is None else _num(lo, path)
        khi = None if hi is None else _num(hi, path)
        return (klo, khi, lo_incl, hi_incl), number_of
    if kind == BOOL:
        raise QueryError(f"range queries are not supported on boolean field '{path}'")
    if kind == META:
        given = [b for b in (lo, hi) if b is not None]
        try:
            nums = [float(b) for b in given]
        except ValueError:
            nums = []
        if given and len(nums) == len(given):
            klo = None if lo is None else float(lo)
            khi = None if hi is None else float(hi)
            return (klo, khi, lo_incl, hi_incl), number_of
        return (lo, hi, lo_incl, hi_incl), text_of
    conv = key_func(path)
    klo = None if lo is None else conv(lo)
    khi = None if hi is None else conv(hi)
    return (klo, khi, lo_incl, hi_incl), conv


def in_bounds(k: Any, b: Bounds) -> bool:
    lo, hi, lo_incl, hi_incl = b
    if lo is not None and (k < lo or (k == lo and not lo_incl)):
        return False
    return not (hi is not None and (k > hi or (k == hi and not hi_incl)))


def term_matcher(path: str, text: str) -> tuple[Callable[[Any], bool], Bounds | None]:
    """Exact-value matcher for ``path:text`` plus its bounds in key space (for index use)."""
    kind = kind_of(path)
    if kind == DATE:
        try:
            lo, hi = parse_instant(text), parse_instant(text, round_up=True)
        except ValueError:
            raise QueryError(f"invalid date '{text}' for field '{path}'") from None
        b: Bounds = (lo, hi, True, True)
        return (lambda v: isinstance(v, str) and lo <= v <= hi), b
    if kind == NUMBER:
        n = _num(text, path)
        return (lambda v: number_of(v) == n), (n, n, True, True)
    if kind == BOOL:
        low = text.lower()
        if low not in ("true", "false"):
            raise QueryError(f"'{text}' is not a boolean (field '{path}')")
        flag = low == "true"
        return (lambda v: isinstance(v, bool) and v is flag), (int(flag), int(flag), True, True)
    if kind == CI_TEXT:
        low = text.lower()
        return (lambda v: (t := text_of(v)) is not None and t.lower() == low), (
            low,
            low,
            True,
            True,
        )
    return (lambda v: text_of(v) == text), (text, text, True, True)


def wildcard_matcher(path: str, pattern: tuple[str, ...]) -> Callable[[Any], bool]:
    """Matcher for a wildcard term; only text fields support wildcards."""
    kind = kind_of(path)
    if kind in (DATE, NUMBER, BOOL, META):
        raise QueryError(f"wildcard queries are not supported on field '{path}'")
    parts = []
    for i, chunk in enumerate(pattern):
        if i % 2:
            parts.append(".*" if chunk == "*" else ".")
        else:
            parts.append(re.escape(chunk.lower() if kind == CI_TEXT else chunk))
    rx = re.compile("".join(parts), re.DOTALL)
    if kind == CI_TEXT:
        return lambda v: (t := text_of(v)) is not None and rx.fullmatch(t.lower()) is not None
    return lambda v: (t := text_of(v)) is not None and rx.fullmatch(t) is not None
