"""docs/performance.md, written by `make bench` itself: each part's tables between markers,
replaced when that part runs (a `--quick` run writes nothing), so refreshing the figures is a
bench run, not a commit of hand edits. What each part measures is said here once."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"

PREAMBLE = """# Performance

Written by `make bench` (scripts/bench.py); do not edit by hand. Each part below says when it
was last measured and on which commit: `make bench ARGS="--only <part>"` refreshes one part.
Everything runs against the local sandbox on a shared 2-core machine, so compare ratios and
medians measured in one run, not absolute figures across runs. The sandbox gzips its answers
as Auth0 does unless a table says otherwise.
"""

# part -> what it measures (no figures: those are in the tables).
PARTS = {
    "profiles": (
        "**Rate profiles** — 150 ms latency per request, the sandbox enforcing each tier's token "
        "bucket. `user_detail` with the shared scheduler and `max_concurrency` 8, beside the "
        "one-at-a-time baseline; records/s measured at the server over the middle of the run "
        "(the burst spent); `users listed/s` is the `users` listing over the whole run."
    ),
    "default-run": (
        "**Default run per rate profile** — the default selection (no catalog) under the free, "
        "Essentials and Enterprise profiles at 150 ms: 429s against requests, and which "
        "endpoints drew them (target: at most 1% per profile)."
    ),
    "output": (
        "**Output path** — users through post-processing, the Singer writer and the state "
        "bookkeeping, stdout to /dev/null, one core: the SDK's paths beside the tap's."
    ),
    "scale": (
        "**Scale** — `users`, no latency, no limit, end to end through the console script: "
        "peak RSS and the final STATE's size do not grow with the tenant."
    ),
    "listing": (
        "**Users listing and record cost** — the listing against each tier at 150 ms "
        "(concurrent keyset windows beside one chain; users/s measured at the server), then "
        "the record cost end to end: CPU seconds of the tap process from `wait4`, start-up "
        "included, the sandbox in a process of its own, the median of three runs, with the "
        "sandbox's answers gzipped (as Auth0's) and as identity."
    ),
    "logs": (
        "**Logs** — the `logs` checkpoint chain against each tier's logs bucket at 150 ms "
        "(events/s at the server), then its record cost end to end as for users."
    ),
    "overrides": (
        "**Record cost per SDK override** — `users` and `logs` with the tap's overrides of "
        "the SDK's sync loop and record write on and off (`TAP_AUTH0_SDK_OVERRIDES`): "
        "an override stays only where it saves a stream's record cost."
    ),
    "export": (
        "**Export job vs search** — the same tenant through a user export job and through "
        "search: API requests (what a real tenant's rate limit charges) and records/s."
    ),
    "rbac": (
        "**Roles and organizations** — requests per RBAC and organization stream, then the "
        "rate-limit buckets under the Enterprise and Essentials profiles: each bucket's share, "
        "429s, and whether the buckets pace apart (elapsed / largest bucket's minimum ≈ 1)."
    ),
    "change-capture": (
        "**Change capture** — the default selection run after run with its STATE: the full "
        "pass (run 1), then runs that read the tenant log and re-read only what it names, "
        "under the Essentials profile: requests with nothing changed (target: at most 20), per "
        "change of each kind (target: about 3), and for a mix, against 20 + 3 x changes + "
        "the large parents' extra pages, at two tenant sizes."
    ),
}
_STAMP = re.compile(r"^Measured \d{4}-\d{2}-\d{2}, commit ", re.M)
_BLOCK = re.compile(r"<!-- bench:([a-z-]+) -->\n(.*?)<!-- /bench:\1 -->\n", re.S)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=DOC.parent, check=False
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _commit() -> str:
    """The commit measured; `+ local changes` when the tracked files differ from it, for
    then the figures belong to no commit."""
    commit = _git("rev-parse", "--short", "HEAD") or "?"
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} + local changes" if changed else commit


def write(measured: dict[str, list[tuple[str, list[str]]]], doc: Path = DOC) -> Path:
    """Replace the blocks of the parts in `measured` (part -> its titled tables); the other
    parts keep what the last run of each wrote. Figures come only from a run: a part never
    measured says how to measure it."""
    old = dict(_BLOCK.findall(doc.read_text())) if doc.exists() else {}
    stamp = f"Measured {datetime.now(timezone.utc):%Y-%m-%d}, commit {_commit()}."
    parts = []
    for part, what in PARTS.items():
        if part in measured:
            tables = "".join(
                f"\n#### {title}\n\n" + "\n".join(rows) + "\n" for title, rows in measured[part]
            )
            body = f"{what}\n\n{stamp}\n{tables}"
        else:
            body = old.get(part, "")
            if not _STAMP.search(body):  # no figures yet: what it measures, and how
                how = f'`make bench ARGS="--only {part}"`'
                body = f"{what}\n\nNot measured by `make bench` yet: {how}.\n"
        parts.append(f"<!-- bench:{part} -->\n{body}<!-- /bench:{part} -->\n")
    doc.write_text(PREAMBLE + "\n" + "\n".join(parts))
    return doc
