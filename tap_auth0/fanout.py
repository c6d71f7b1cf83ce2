"""The one concurrent fan-out for child streams: per parent record, fetch each child's data
on worker threads through the shared HTTP client, and emit it on the main thread.

Each child stream is a *lane* with its own workers, so a child waiting on a slow rate-limit
bucket (Auth0's Read Organization Connections allows 50 a minute on Essentials) does not
stall a child on a faster one. Within a lane, results are emitted in parent order. With
`hold_parents`, a parent record is handed on only after every lane has emitted its children:
`users` relies on that, so its bookmark never passes a user whose detail is missing.
"""

from __future__ import annotations

import collections
import typing as t
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from tap_auth0.errors import ScopeError

if t.TYPE_CHECKING:
    from tap_auth0.progress import Progress

P = t.TypeVar("P")
Context = dict[str, t.Any]
Record = dict[str, t.Any]


class Lane:
    """One child's fetches: `fetch(context)` on workers, `emit(records, context)` here."""

    def __init__(
        self,
        name: str,
        fetch: t.Callable[[Context], list[Record]],
        emit: t.Callable[[list[Record], Context], None],
        *,
        workers: int,
        on_scope_error: t.Callable[[ScopeError], None] | None = None,
        progress: Progress | None = None,
    ) -> None:
        """`on_scope_error`: the lane's stream is refused a scope; the lane stops (None:
        the error ends the run). `progress` counts the parents done."""
        self.progress = progress
        self.name = name
        self._fetch = fetch
        self._emit = emit
        self._on_scope_error = on_scope_error
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.pending: collections.deque[tuple[int, Context, Future]] = collections.deque()
        self.disabled = False

    def submit(self, seq: int, context: Context) -> None:
        if not self.disabled:
            self.pending.append((seq, context, self._pool.submit(self._fetch, context)))

    @property
    def head_seq(self) -> float:
        """The parent the lane has not finished yet (infinity when it has none pending)."""
        return self.pending[0][0] if self.pending else float("inf")

    def emit_ready(self) -> bool:
        """Emit the finished results at the head of the lane; True if any."""
        emitted = False
        while self.pending and self.pending[0][2].done():
            _, context, future = self.pending.popleft()
            emitted = True
            try:
                records = future.result()
            except ScopeError as exc:
                if self._on_scope_error is None:
                    raise
                self.disable()
                self._on_scope_error(exc)
                return True
            self._emit(records, context)
            if self.progress is not None:
                self.progress.advance()
        return emitted

    def disable(self) -> None:
        self.disabled = True
        for _, _, future in self.pending:
            future.cancel()
        self.pending.clear()

    def close(self) -> None:
        for _, _, future in self.pending:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.progress is not None:
            self.progress.finish()


class FanOut:
    """Drive lanes along a stream of parent records."""

    def __init__(self, lanes: list[Lane], *, hold_parents: bool, window: int) -> None:
        self.lanes = lanes
        self.hold_parents = hold_parents
        self.window = window

    def along(
        self,
        parents: t.Iterable[P],
        context: t.Callable[[P], Context],
        wanted: t.Callable[[P], bool] | None = None,
    ) -> t.Iterator[P]:
        """Each parent, in order; its children are fetched unless `wanted` says no."""
        held: collections.deque[tuple[int, P]] = collections.deque()
        try:
            for seq, parent in enumerate(parents):
                if wanted is None or wanted(parent):
                    ctx = context(parent)
                    for lane in self.lanes:
                        lane.submit(seq, ctx)
                if self.hold_parents:
                    held.append((seq, parent))
                else:
                    yield parent
                self._drain(block=False)
                while any(len(lane.pending) >= self.window for lane in self.lanes):
                    self._drain(block=True)
                yield from self._release(held)
            while any(lane.pending for lane in self.lanes):
                self._drain(block=True)
            yield from self._release(held)
        finally:
            for lane in self.lanes:
                lane.close()

    def _drain(self, *, block: bool) -> None:
        progressed = False
        for lane in self.lanes:
            progressed = lane.emit_ready() or progressed
        if block and not progressed:
            heads = [lane.pending[0][2] for lane in self.lanes if lane.pending]
            if heads:
                wait(heads, return_when=FIRST_COMPLETED)
            for lane in self.lanes:
                lane.emit_ready()

    def _release(self, held: collections.deque[tuple[int, P]]) -> t.Iterator[P]:
        done_below = min((lane.head_seq for lane in self.lanes), default=float("inf"))
        while held and held[0][0] < done_below:
            yield held.popleft()[1]
