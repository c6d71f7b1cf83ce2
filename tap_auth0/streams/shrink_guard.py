"""Guarded deletes: a complete read far smaller than the last one keeps the warehouse's rows.

ACTIVATE_VERSION after a full table's complete read tells a loader to drop every row an
older version wrote. A read that is complete but wrong (a scope or `connection` narrowed by
mistake, an Auth0 incident answering a short list) would then wipe the rows it missed. So
each stream's STATE keeps the row count of its last activated read, beside its bookmark
(the SDK leaves extra keys in a stream's state, and Meltano keeps them when it merges
states). A new read that shrinks by more than `max_table_shrink` still lands its records
(upserts), but its ACTIVATE_VERSION is held back with one WARNING, and the stored count
stays, so every later run is guarded the same way until a read is back within the bound or
the shrink is accepted (one run with `max_table_shrink: 1`).
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import logging

# In a stream's STATE: rows of its last complete read that was activated.
ROWS_KEY = "complete_read_rows"
# Tables this small are not guarded: a few legitimate deletes (2 of 4 test applications)
# cross any fraction, and a warning on each would teach users to turn the guard off. What
# such a table loses by mistake is a handful of rows, back on the next good run.
SMALL_TABLE = 10


def previous_rows(state: t.Mapping[str, t.Any]) -> int | None:
    """The row count the STATE holds for this stream, if a usable one."""
    value = state.get(ROWS_KEY)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def may_activate(
    state: dict[str, t.Any],
    stream: str,
    rows: int,
    *,
    max_shrink: float,
    logger: logging.Logger,
) -> bool:
    """Whether a complete read of `rows` rows may activate its version. Stores `rows` in
    `state` when it may; when not, logs one WARNING and leaves the stored count as it was."""
    old = previous_rows(state)
    if old is not None and old > SMALL_TABLE and rows < (1 - max_shrink) * old:
        logger.warning(
            "Stream '%s': ACTIVATE_VERSION held back, the warehouse keeps its old rows: this "
            "complete read has %d rows, the last one had %d (%.0f%% fewer; "
            "max_table_shrink %g allows %.0f%%). If the shrink is real, run once with "
            "max_table_shrink: 1",
            stream,
            rows,
            old,
            100 * (old - rows) / old,
            max_shrink,
            100 * max_shrink,
        )
        return False
    state[ROWS_KEY] = rows
    return True
