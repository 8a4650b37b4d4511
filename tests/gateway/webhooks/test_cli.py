"""`govgate subscriptions` against a real SQLite database in a temporary folder."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli.subscriptions import subscriptions
from gateway.feeds import Filter
from gateway.members.store import Grant as _Grant
from gateway.members.store import MembersStore
from gateway.settings import Settings
from gateway.store import open_database
from gateway.webhooks.store import SubscriptionStore

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events


def make_subscription(data_dir: Path) -> str:
    async def run() -> str:
        async with open_database(Settings(data_dir=data_dir)) as engine:
            await MembersStore(engine).add_member("sup", ["subscriber"], grants=[EVERY_CASE])
            store = SubscriptionStore(engine)
            sub = await store.create(
                "sup", "case-events", "http://h/x?token=secret", Filter(), {0: 7}
            )
            await store.claim(sub.subscription_id, "w", 10_000)
            await store.fail(sub.subscription_id, "w", "HTTP 503", 0, max_failures=1)
            return sub.subscription_id

    return asyncio.run(run())


def test_list_pause_and_resume(data_dir: Path) -> None:
    sid = make_subscription(data_dir)
    env = {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_DATABASE_URL": None, "GOVGATE_CONFIG": None}
    run = CliRunner(env=env)
    listed = run.invoke(subscriptions, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.stdout)
    assert (row["id"], row["member"], row["state"]) == (sid, "sup", "paused (failing)")
    assert (row["failures"], row["last_error"], row["position"]) == (1, "HTTP 503", {"0": 7})
    assert "secret" not in listed.stdout
    resumed = run.invoke(subscriptions, ["resume", sid])
    assert resumed.exit_code == 0 and resumed.stdout.strip() == f"{sid} active"
    assert "active" in run.invoke(subscriptions, ["list", "--member", "sup"]).stdout
    assert run.invoke(subscriptions, ["list", "--member", "other"]).stdout == ""
    assert run.invoke(subscriptions, ["pause", sid]).stdout.strip() == f"{sid} paused"
    missing = run.invoke(subscriptions, ["resume", "nope"])
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.stderr
