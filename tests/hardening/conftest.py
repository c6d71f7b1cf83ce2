"""Hardening suite: faults, interruptions, secrets, bad input (helpers in tests/support)."""

from __future__ import annotations

import typing as t

from tests.support.figures import FIGURES


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    if FIGURES:
        terminalreporter.section("tap-auth0 hardening figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
