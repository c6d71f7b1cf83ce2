"""`user_detail`: Get a User for every listed user (or for `user_ids`), concurrently."""

from __future__ import annotations

import collections
import typing as t

from tap_auth0.client import Auth0Stream
from tap_auth0.fanout import FanOut, Lane
from tap_auth0.streams.users.query import projection
from tap_auth0.streams.users.stream import UsersStream, drop_idp_tokens


class UserDetailStream(Auth0Stream):
    """Get a User for every listed user: a child of `users` in the shared fan-out.

    Opt-in: a request per user (hours on a large tenant) for the same object `users` lists.
    What it adds is a read that is never index-lagged: Get a User reads the user store,
    while List Users searches an eventually consistent index.
    """

    name = "user_detail"
    selected_by_default = False
    path = "/users/{user_id}"
    primary_keys = ("user_id",)
    replication_key = None
    parent = UsersStream
    scopes = ("read:users",)
    activate_version = False  # only a complete export activates a version (users.py)
    tombstones = True
    schema_file = "user"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing: list[str] = []
        s = self.settings
        self._params = projection(s.user_detail_fields, s.user_detail_include_fields, ("user_id",))

    def post_process(
        self, row: dict[str, t.Any], context: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        if not self.settings.include_idp_tokens:
            row = drop_idp_tokens(row)
        return super().post_process(row, context)

    def get_one(self, user_id: str, gone: str) -> list[dict[str, t.Any]]:
        user = self.http.get_user(user_id, self._params)
        if user is None:
            self.missing.append(user_id)
            self.logger.warning(gone, user_id)
            return []
        return [user]

    def fetch_children(self, context: dict[str, t.Any]) -> list[dict[str, t.Any]]:
        return self.get_one(context["user_id"], "User %s no longer exists (404); skipped")

    def end_table(self, *, complete: bool) -> None:
        super().end_table(complete=complete)
        self.logger.info(
            "user_detail: %d users fetched, %d missing (404)", self.emitted, len(self.missing)
        )


class UserDetailByIdStream(UserDetailStream):
    """`user_detail` when `user_ids` is set: standalone, fetched by ID, no listing.

    Selected by default: `user_ids` is itself the request for these users.
    """

    parent = None  # type: ignore[assignment]
    selected_by_default = True

    def records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[dict[str, t.Any]]:
        """Exactly the `user_ids`, several at a time, in the order given."""
        done: collections.deque[dict[str, t.Any]] = collections.deque()
        lane = Lane(
            self.name,
            lambda ctx: self.get_one(
                ctx["user_id"], "Unknown user id %r (404 inexistent_user); skipped"
            ),
            lambda records, _ctx: done.extend(records),
            workers=self.settings.max_concurrency,
        )
        fan = FanOut([lane], hold_parents=False, window=4 * self.settings.max_concurrency)
        for _ in fan.along(self.settings.user_ids or [], lambda uid: {"user_id": uid}):
            while done:
                yield done.popleft()
        while done:
            yield done.popleft()
