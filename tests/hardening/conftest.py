"""Hardening suite: faults, interruptions, secrets, bad input (see support.py)."""

from __future__ import annotations

import typing as t

from tests.hardening.support import FIGURES


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    if FIGURES:
        terminalreporter.section("tap-auth0 hardening figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
