"""docs/performance.md is written by `make bench` (scripts/benchdoc.py): a run of one part
replaces that part's tables and keeps every other part's, and a part never measured carries
no figures, only how to measure it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.support.paths import ROOT

spec = importlib.util.spec_from_file_location("benchdoc", ROOT / "scripts" / "benchdoc.py")
assert spec and spec.loader
benchdoc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchdoc)

TABLE = ["| users | CPU s |", "|---:|---:|", "| 60,000 | 1.40 |"]


def block(doc: Path, part: str) -> str:
    text = doc.read_text()
    start = text.index(f"<!-- bench:{part} -->")
    return text[start : text.index(f"<!-- /bench:{part} -->", start)]


def test_a_part_run_writes_its_tables_and_keeps_the_others(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    benchdoc.write({"overrides": [("Record cost", TABLE)]}, doc=doc)
    first = block(doc, "overrides")
    assert "#### Record cost" in first and "| 60,000 | 1.40 |" in first
    assert "Measured " in first and ", commit " in first

    benchdoc.write({"output": [("Output path", ["| x |", "|---|", "| 9 |"])]}, doc=doc)
    assert block(doc, "overrides") == first  # not run this time: its figures stay
    assert "| 9 |" in block(doc, "output")
    assert doc.read_text().startswith(benchdoc.PREAMBLE)


def test_a_part_never_measured_says_how_and_shows_no_figures(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    benchdoc.write({"output": [("Output path", TABLE)]}, doc=doc)
    for part in benchdoc.PARTS:
        if part == "output":
            continue
        text = block(doc, part)
        assert f'`make bench ARGS="--only {part}"`' in text, part
        assert "|" not in text and "git show" not in text, part


def test_a_placeholder_pointing_at_hand_kept_figures_is_replaced(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(
        "<!-- bench:scale -->\nScale.\n\nNot measured by this writer yet. The last hand-kept "
        "figures are in `git show 5ae1f82:docs/performance.md`.\n<!-- /bench:scale -->\n"
    )
    benchdoc.write({"output": [("Output path", TABLE)]}, doc=doc)
    assert "git show" not in doc.read_text()
    assert '`make bench ARGS="--only scale"`' in block(doc, "scale")
