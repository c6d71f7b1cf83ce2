"""Figures tests report (counts, timings), printed again in the pytest terminal summary by
the hardening conftest."""

from __future__ import annotations

FIGURES: list[str] = []


def report(line: str) -> None:
    FIGURES.append(line)
    print(line)
