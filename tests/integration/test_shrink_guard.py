"""Guarded deletes through the real console script against the sandbox: a complete read
that shrank past `max_table_shrink` since the last run keeps the warehouse's rows."""

from __future__ import annotations

from tap_auth0.shrink_guard import ROWS_KEY
from tests.support.cli import run_cli, stderr_lines
from tests.support.messages import last_state, parse, records
from tests.support.sandbox_instances import TOKEN, fresh_sandbox
from tests.support.tap import catalog_selecting

# An export is a full pass of users every run: users, a per-user stream and a per-role
# fan-out child all end with ACTIVATE_VERSION, and all shrink when users are deleted.
SHRINKING = {"users", "user_permissions", "role_members"}
STEADY = {"roles", "role_permissions"}  # deleting users leaves these as they were


def activated(messages: list[dict]) -> set[str]:
    return {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}


def counts(state: dict) -> dict[str, int]:
    return {name: b[ROWS_KEY] for name, b in state["bookmarks"].items() if ROWS_KEY in b}


def held(stderr: str) -> list[str]:
    return [line for line in stderr_lines(stderr) if "ACTIVATE_VERSION held back" in line]


def test_most_users_deleted_keeps_the_warehouse_rows_then_max_table_shrink_1_lets_go():
    with fresh_sandbox(users=200, seed=3) as sb:
        # Full passes every run (the guard judges complete reads; with change capture the
        # deletions would come from the log, each confirmed by a 404, as tombstones).
        config = {
            "domain": sb.base_url,
            "tenant": "sandbox",
            "access_token": TOKEN,
            "users_extraction": "export",
            "change_capture": False,
        }
        catalog = catalog_selecting(config, SHRINKING | STEADY)

        first = run_cli(config, catalog=catalog)
        assert first.returncode == 0, first.stderr[-2000:]
        msgs = parse(first.stdout)
        assert activated(msgs) == SHRINKING | STEADY
        before = counts(last_state(msgs))
        assert before["users"] == 200
        assert all(before[name] > 10 for name in SHRINKING), before

        for user in sb.truth()[20:]:
            assert sb.delete_user(user["user_id"])

        # Run 2 reads the final STATE run 1 printed, as an orchestrator passes it on.
        second = run_cli(config, catalog=catalog, state=last_state(msgs))
        assert second.returncode == 0, second.stderr[-2000:]
        msgs2 = parse(second.stdout)
        assert len(records(msgs2, "users")) == 20
        assert activated(msgs2) == STEADY
        warnings = held(second.stderr)
        assert len(warnings) == len(SHRINKING), warnings
        for name in SHRINKING:
            (line,) = [w for w in warnings if f"Stream '{name}'" in w]
            after = len(records(msgs2, name))
            assert f"has {after} rows" in line
            assert f"had {before[name]}" in line
            assert "max_table_shrink" in line
        assert any("WARNING" in line and "'users'" in line for line in second.stderr.splitlines())
        # The counts are not lowered: the next run is guarded against the same baseline.
        assert counts(last_state(msgs2)) == before

        third = run_cli({**config, "max_table_shrink": 1}, catalog=catalog, state=last_state(msgs2))
        assert third.returncode == 0, third.stderr[-2000:]
        msgs3 = parse(third.stdout)
        assert activated(msgs3) == SHRINKING | STEADY
        assert not held(third.stderr)
        assert counts(last_state(msgs3))["users"] == 20
