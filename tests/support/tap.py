"""The tap in-process, through its public constructor only."""

from __future__ import annotations

import io
import typing as t
from contextlib import redirect_stdout

from tap_auth0.tap import TapAuth0
from tests.support.messages import parse


def run_inprocess(
    config: dict[str, t.Any], state: dict | None = None, catalog: dict | None = None
) -> list[dict[str, t.Any]]:
    """`TapAuth0(config, state, catalog).sync_all()`; the Singer messages it wrote."""
    buf = io.StringIO()
    tap = TapAuth0(config=config, state=state, catalog=catalog)
    with redirect_stdout(buf):
        tap.sync_all()
    return parse(buf.getvalue())


def catalog_selecting(config: dict[str, t.Any], streams: set[str]) -> dict:
    """The tap's discovered catalog with exactly `streams` selected."""
    return TapAuth0.catalog_selecting(config, streams)


def catalog_adding(config: dict[str, t.Any], streams: set[str]) -> dict:
    """The default selection plus `streams` (opt-in streams such as `user_detail` that a
    test reads beside the defaults)."""
    return TapAuth0.catalog_selecting(config, streams, add=True)
