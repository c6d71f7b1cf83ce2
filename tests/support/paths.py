"""Repository paths the tests use."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# Auth0's own SDK cassettes, copied in (provenance: RECORDINGS.md there).
RECORDINGS = FIXTURES / "recordings"
