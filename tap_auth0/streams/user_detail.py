"""`user_detail`: Get a User for every listed user (or for `user_ids`), concurrently."""

from __future__ import annotations

import collections
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor

from tap_auth0.client import Auth0Stream
from tap_auth0.schemas import load_schema
from tap_auth0.streams.query import projection
from tap_auth0.streams.users import UsersStream

_T = t.TypeVar("_T")


class UserDetailStream(Auth0Stream):
    """Get a User for every listed user (or for `user_ids`), several at a time."""

    name = "user_detail"
    path = "/users/{user_id}"
    primary_keys = ("user_id",)
    replication_key = None
    parent_stream_type = UsersStream
    # No per-user partitions: the state must not grow with the number of users.
    state_partitioning_keys: t.ClassVar[list[str]] = []
    schema = load_schema("user")

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._started = False
        self._counter: t.Any = None
        self.missing: list[str] = []
        self.fetched = 0

    def _params(self) -> dict[str, str]:
        s = self.settings
        return projection(s.user_detail_fields, s.user_detail_include_fields, ("user_id",))

    def fetch_one(self, user_id: str, params: dict[str, str]) -> dict[str, t.Any] | None:
        user = self.http.get_user(user_id, params)
        if user is None:
            self.missing.append(user_id)
            self.logger.warning("User %s no longer exists (404); skipped", user_id)
        return user

    def _in_order(
        self,
        items: t.Iterable[_T],
        fetch: t.Callable[[_T], dict[str, t.Any] | None],
        window: int,
    ) -> t.Iterator[tuple[_T, dict[str, t.Any] | None]]:
        """`(item, fetch(item))` in input order, with up to max_concurrency fetches in
        flight and at most `window` queued; each is handed out as soon as it and all
        before it are done."""
        pending: collections.deque[tuple[_T, Future]] = collections.deque()
        workers = self.settings.max_concurrency
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="user_detail") as pool:
            try:
                for item in items:
                    pending.append((item, pool.submit(fetch, item)))
                    while len(pending) >= window or (pending and pending[0][1].done()):
                        head, future = pending.popleft()
                        yield head, future.result()
                while pending:
                    head, future = pending.popleft()
                    yield head, future.result()
            finally:
                for _, future in pending:
                    future.cancel()

    def fetch_along(self, users: t.Iterable[dict[str, t.Any]]) -> t.Iterator[dict[str, t.Any]]:
        """Yield each user after emitting its detail, keeping up to max_concurrency
        detail requests in flight while the listing goes on."""
        params = self._params()
        # Room for a whole page plus the in-flight requests, so the workers keep busy
        # while the next listing request is on its way.
        window = max(
            4 * self.settings.max_concurrency,
            self.settings.page_size + self.settings.max_concurrency,
        )
        for parent, detail in self._in_order(
            users, lambda u: self.fetch_one(u["user_id"], params), window
        ):
            self.emit(detail)
            yield parent

    def begin(self) -> None:
        if not self._started:
            self._started = True
            self._write_schema_message()
        # The SDK's record_count metric, as for any stream it syncs itself.
        self._counter = self.get_record_counter()
        self._counter.__enter__()

    def end(self) -> None:
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self._counter = None
        self.logger.info(
            "user_detail: %d users fetched, %d missing (404)", self.fetched, len(self.missing)
        )

    def emit(self, record: dict[str, t.Any] | None) -> None:
        if record is None:
            return
        processed = self.post_process(record)
        if processed is None:
            return
        self.fetched += 1
        self._write_record_message(processed)
        if self._counter is not None:
            self._counter.increment()

    def get_records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[dict]:
        """Direct mode (`user_ids`): fetch exactly those users, no listing."""
        ids = self.settings.user_ids or []
        if context and context.get("user_id"):
            ids = [context["user_id"]]
        params = self._params()
        window = 4 * self.settings.max_concurrency
        for uid, user in self._in_order(ids, lambda u: self.http.get_user(u, params), window):
            if user is None:
                self.missing.append(uid)
                self.logger.warning("Unknown user id %r (404 inexistent_user); skipped", uid)
                continue
            self.fetched += 1
            yield user
