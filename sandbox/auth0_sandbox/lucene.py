"""A parser for the Lucene query-string subset Auth0 user search (v3) accepts.

Grammar (precedence NOT > AND > OR; adjacent clauses without an operator are OR-ed, which is the
Lucene / Elasticsearch ``query_string`` default operator; ``+`` marks a clause required and ``-``
or ``NOT`` prohibited, with Lucene's must/should/must_not meaning)::

    query   := clauses EOF
    clauses := and ( [OR | '||'] and )*
    and     := unary ( (AND | '&&') unary )*
    unary   := (NOT | '!' | '+' | '-') unary | primary
    primary := '(' clauses ')' | FIELD ':' value | _exists_ ':' FIELD | '*:*' | value
    value   := '(' clauses ')' | '"' phrase '"' | range | ('>'|'>='|'<'|'<=') bound | term
    range   := ('[' | '{') bound TO bound (']' | '}')

Terms are matched exactly (v3 does not tokenize); ``*``/``?`` make a wildcard, ``\\`` escapes.
The parser only builds the tree; field semantics (types, case rules) live in ``fields.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "And",
    "Exists",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Range",
    "Term",
    "parse",
]


class QueryError(ValueError):
    """The query string is malformed or uses an unsupported construct."""


@dataclass(frozen=True, slots=True)
class Term:
    """``field:value`` (field None = default fields); ``pattern`` set for wildcard terms."""

    field: str | None
    text: str
    phrase: bool = False
    pattern: tuple[str, ...] | None = None  # literal chunks split by "*" / "?" markers


@dataclass(frozen=True, slots=True)
class Range:
    """``field:[lo TO hi]``; None bound = open (``*``)."""

    field: str
    lo: str | None
    hi: str | None
    lo_incl: bool
    hi_incl: bool


@dataclass(frozen=True, slots=True)
class Exists:
    field: str


@dataclass(frozen=True, slots=True)
class MatchAll:
    pass


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Term | Range | Exists | MatchAll | And | Or | Not

_STOP = set(' \t\r\n()"')
_KEYWORDS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT", "!": "NOT"}


def parse(text: str) -> Node:
    """Parse ``text`` into a tree; raises QueryError with a human-readable reason."""
    parser = _Parser(text)
    node = parser.clauses(field=None)
    parser.skip_ws()
    if parser.pos < len(text):
        raise QueryError(f"unexpected '{text[parser.pos]}' at position {parser.pos}")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.pos = 0

    # -- lexical helpers ------------------------------------------------------------------
    def skip_ws(self) -> None:
        while self.pos < len(self.s) and self.s[self.pos].isspace():
            self.pos += 1

    def peek_keyword(self) -> str | None:
        """The operator keyword at the cursor (AND/OR/NOT or symbol form), if any."""
        s, p = self.s, self.pos
        for word, kind in _KEYWORDS.items():
            end = p + len(word)
            if s.startswith(word, p) and (
                not word.isalpha() or end == len(s) or s[end].isspace() or s[end] in "()"
            ):
                if word == "!" and s.startswith("!=", p):
                    continue
                return kind
        return None

    def eat_keyword(self) -> None:
        s, p = self.s, self.pos
        for word in _KEYWORDS:
            if s.startswith(word, p):
                self.pos += len(word)
                return

    def at_end_of_group(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.s) or self.s[self.pos] == ")"

    # -- grammar --------------------------------------------------------------------------
    def clauses(self, field: str | None) -> Node:
        must: list[Node] = []
        should: list[Node] = []
        must_not: list[Node] = []
        while not self.at_end_of_group():
            if self.peek_keyword() == "OR":
                if not (must or should or must_not):
                    raise QueryError(f"operator OR without left operand at position {self.pos}")
                self.eat_keyword()
                if self.at_end_of_group():
                    raise QueryError("operator OR without right operand")
                continue
            if self.peek_keyword() == "AND":
                raise QueryError(f"operator AND without left operand at position {self.pos}")
            mod, node = self.and_chain(field)
            {"+": must, "-": must_not, "": should}[mod].append(node)
        if not (must or should or must_not):
            raise QueryError("empty query or group")
        if must:
            parts = must + [Not(n) for n in must_not]
        elif should:
            parts = [should[0] if len(should) == 1 else Or(tuple(should))]
            parts += [Not(n) for n in must_not]
        else:
            parts = [MatchAll()] + [Not(n) for n in must_not]
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def and_chain(self, field: str | None) -> tuple[str, Node]:
        items = [self.unary(field)]
        while True:
            self.skip_ws()
            if self.peek_keyword() != "AND":
                break
            self.eat_keyword()
            if self.at_end_of_group():
                raise QueryError("operator AND without right operand")
            items.append(self.unary(field))
        if len(items) == 1:
            return items[0]
        return "", And(tuple(Not(n) if m == "-" else n for m, n in items))

    def unary(self, field: str | None) -> tuple[str, Node]:
        self.skip_ws()
        if self.peek_keyword() == "NOT":
            self.eat_keyword()
            if self.at_end_of_group():
                raise QueryError("operator NOT without operand")
            mod, node = self.unary(field)
            return "-", (Not(node) if mod == "-" else node)
        if self.pos < len(self.s) and self.s[self.pos] in "+-":
            mod = self.s[self.pos]
            self.pos += 1
            if self.pos >= len(self.s) or self.s[self.pos].isspace():
                raise QueryError(f"dangling '{mod}' at position {self.pos - 1}")
            inner_mod, node = self.unary(field)
            if inner_mod == "-":
                node = Not(node)
            return mod, node
        return "", self.primary(field)

    def primary(self, field: str | None) -> Node:
        self.skip_ws()
        s = self.s
        if self.pos >= len(s):
            raise QueryError("unexpected end of query")
        ch = s[self.pos]
        if ch == "(":
            return self.group(field)
        if ch == ")":
            raise QueryError(f"unexpected ')' at position {self.pos}")
        if field is None and s.startswith("*:*", self.pos):
            self.pos += 3
            return MatchAll()
        if field is None:
            name = self.field_name()
            if name is not None:
                if name == "_exists_":
                    target = self.bare_word(stop_colon=False)
                    if not target or target[1]:
                        raise QueryError("_exists_ needs a field name")
                    return Exists(target[0])
                self.skip_ws_inline()
                return self.value(name)
        return self.value(field)

    def skip_ws_inline(self) -> None:
        if self.pos < len(self.s) and self.s[self.pos].isspace():
            raise QueryError(f"missing value after ':' at position {self.pos}")

    def group(self, field: str | None) -> Node:
        self.pos += 1  # "("
        node = self.clauses(field)
        self.skip_ws()
        if self.pos >= len(self.s) or self.s[self.pos] != ")":
            raise QueryError("missing closing parenthesis")
        self.pos += 1
        return node

    def field_name(self) -> str | None:
        """Consume ``name:`` if the cursor is at a field reference; else leave it."""
        s, p = self.s, self.pos
        end = p
        while end < len(s) and (s[end].isalnum() or s[end] in "_.-"):
            end += 1
        if end > p and end < len(s) and s[end] == ":" and (s[p].isalpha() or s[p] == "_"):
            self.pos = end + 1
            return s[p:end]
        return None

    def value(self, field: str | None) -> Node:
        s = self.s
        if self.pos >= len(s):
            raise QueryError(f"missing value for field '{field}'")
        ch = s[self.pos]
        if ch == "(":
            return self.group(field)
        if field is not None and ch in "[{":
            return self.range(field)
        if field is not None and ch in "<>":
            return self.comparison(field)
        if ch == '"':
            return Term(field, self.quoted(), phrase=True)
        word = self.bare_word(stop_colon=False)
        if word is None:
            raise QueryError(f"unexpected '{ch}' at position {self.pos}")
        text, pattern = word
        if self.pos < len(s) and s[self.pos] in "~^":
            raise QueryError(f"fuzzy/boost operator '{s[self.pos]}' is not supported")
        if pattern is not None:
            if pattern == ("", "*", ""):
                return MatchAll() if field is None else Exists(field)
            prefix = pattern[0]
            if len(prefix) < 3:
                raise QueryError(
                    f"wildcard '{text}' needs at least 3 characters before the first wildcard"
                )
        return Term(field, text, pattern=pattern)

    def quoted(self) -> str:
        s = self.s
        self.pos += 1
        out: list[str] = []
        while self.pos < len(s):
            ch = s[self.pos]
            if ch == "\\" and self.pos + 1 < len(s):
                out.append(s[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise QueryError("unterminated quoted string")

    def bare_word(
        self, stop_colon: bool, stop: str = ""
    ) -> tuple[str, tuple[str, ...] | None] | None:
        """Read an unquoted term; returns (literal text, wildcard pattern or None)."""
        s = self.s
        chunks: list[str] = []
        cur: list[str] = []
        wildcard = False
        start = self.pos
        while self.pos < len(s):
            ch = s[self.pos]
            if ch == "\\":
                if self.pos + 1 >= len(s):
                    raise QueryError("dangling escape character at end of query")
                cur.append(s[self.pos + 1])
                self.pos += 2
                continue
            if ch in _STOP or (stop_colon and ch == ":") or ch in stop or ch in "~^":
                break
            if ch in "*?":
                wildcard = True
                chunks.append("".join(cur))
                chunks.append(ch)
                cur = []
            else:
                cur.append(ch)
            self.pos += 1
        if self.pos == start:
            return None
        chunks.append("".join(cur))
        text = "".join(chunks)
        return text, (tuple(chunks) if wildcard else None)

    def bound(self, closers: str) -> str | None:
        self.skip_ws()
        if self.pos >= len(self.s):
            raise QueryError("unterminated range")
        if self.s[self.pos] == '"':
            return self.quoted()
        word = self.bare_word(stop_colon=False, stop=closers)
        if word is None:
            raise QueryError(f"missing range bound at position {self.pos}")
        text, pattern = word
        if pattern == ("", "*", ""):
            return None
        if pattern is not None:
            raise QueryError("wildcards are not allowed in range bounds")
        return text

    def range(self, field: str) -> Range:
        lo_incl = self.s[self.pos] == "["
        self.pos += 1
        lo = self.bound("]}")
        self.skip_ws()
        if not self.s.startswith("TO", self.pos):
            raise QueryError(f"expected 'TO' in range at position {self.pos}")
        self.pos += 2
        hi = self.bound("]}")
        self.skip_ws()
        if self.pos >= len(self.s) or self.s[self.pos] not in "]}":
            raise QueryError("range must end with ']' or '}'")
        hi_incl = self.s[self.pos] == "]"
        self.pos += 1
        return Range(field, lo, hi, lo_incl, hi_incl)

    def comparison(self, field: str) -> Range:
        s = self.s
        op = s[self.pos]
        self.pos += 1
        incl = self.pos < len(s) and s[self.pos] == "="
        if incl:
            self.pos += 1
        value = self.bound("")
        if value is None:
            return Range(field, None, None, True, True)
        if op == ">":
            return Range(field, value, None, incl, True)
        return Range(field, None, value, True, incl)
