"""Base stream: every stream reaches the tenant through one shared, rate-limited client."""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.messages import RecordMessage
from singer_sdk.streams import RESTStream

from tap_auth0.auth import ClientCredentials, StaticToken
from tap_auth0.http_client import Auth0HTTP

if t.TYPE_CHECKING:
    import logging

    from tap_auth0.settings import Settings

IDP_TOKEN_KEYS = ("access_token", "refresh_token", "access_token_secret")


def connect(settings: Settings, logger: logging.Logger) -> Auth0HTTP:
    """One client per run: one token, one connection pool, one rate scheduler."""
    http = Auth0HTTP(settings, logger=logger)
    if settings.access_token:
        http.tokens = StaticToken(settings.access_token)
    else:
        assert settings.client_id and settings.client_secret
        http.tokens = ClientCredentials(
            http,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            audience=settings.audience,
        )
    return http


def drop_idp_tokens(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """IdP tokens are credentials for the user's social/enterprise account: keep them out
    of warehouses unless asked (`include_idp_tokens`)."""
    identities = record.get("identities")
    if isinstance(identities, list):
        for identity in identities:
            if isinstance(identity, dict):
                for key in IDP_TOKEN_KEYS:
                    identity.pop(key, None)
    return record


class Auth0Stream(RESTStream):
    """Owns the base URL, auth, retries and rate limiting for every Auth0 stream."""

    # Records are parsed from Auth0's JSON, so their types are already JSON types and the
    # schema (additionalProperties: true) drops nothing: per-record conformance would cost
    # 3x the rest of the output path and change nothing (tests/test_schemas.py proves it
    # on every recorded payload).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    _fast_output: bool | None = None
    _extracted_at: datetime | None = None
    _extracted_count = 0

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        """Fast path when no stream map or property deselection applies: the SDK's
        generic path (mask walk, mapper, message object) is most of a record's cost."""
        if self._fast_output is None:
            maps = self.stream_maps
            self._fast_output = (
                len(maps) == 1
                and type(maps[0]) is SameRecordTransform
                and maps[0].stream_alias == self.name
                and all(self.mask.values())
            )
        if not self._fast_output:
            super()._write_record_message(record)
            return
        # time_extracted at millisecond-ish resolution is plenty; refresh it every 256.
        if self._extracted_at is None or self._extracted_count >= 256:
            self._extracted_at = datetime.now(timezone.utc)
            self._extracted_count = 0
        self._extracted_count += 1
        self._tap.write_message(
            RecordMessage(
                stream=self.name,
                record=record,
                version=self._stream_version,
                time_extracted=self._extracted_at,
            )
        )
        self.state_manager.is_flushed = False

    @property
    def settings(self) -> Settings:
        return self._tap.settings  # type: ignore[attr-defined]

    @property
    def http(self) -> Auth0HTTP:
        return self._tap.http  # type: ignore[attr-defined]

    @property
    def url_base(self) -> str:
        return f"{self.settings.base_url}/api/v2"

    def post_process(
        self, row: dict[str, t.Any], context: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        if not self.settings.include_idp_tokens:
            drop_idp_tokens(row)
        return row
