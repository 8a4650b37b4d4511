"""`govgate up --workers 2`: real worker processes on one port, sharing the nonce store, the
audit chain and the metrics, with the materializer in worker 0 only, restarted when killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx

from gateway.api.services import open_services
from gateway.api.workers import worker_settings
from gateway.client import GatewayClient, GatewayRefused
from gateway.members.keys import PrivateKey, generate_private_key, key_id
from gateway.members.store import Grant
from gateway.settings import DatabaseSettings, GatewaySettings, Settings, WebhooksSettings
from gateway.signatures import sign_request
from tests.conftest import free_port
from tests.samples import certificate, person

PURPOSE = "11330802002493025K3330111703000"
CERTS = [f"330802-YYZZ-{i:06d}" for i in range(3)]


def test_background_tasks_run_in_worker_zero_only() -> None:
    settings = Settings(
        gateway=GatewaySettings(materialize=True, audit_anchor_interval_s=60),
        webhooks=WebhooksSettings(deliver=True),
        database=DatabaseSettings(migrate_on_start=True),
    )
    first, second = worker_settings(settings, 0), worker_settings(settings, 1)
    assert (first.gateway.materialize, first.gateway.audit_anchor_interval_s) == (True, 60)
    assert first.webhooks.deliver
    assert (second.gateway.materialize, second.gateway.audit_anchor_interval_s) == (False, 0)
    assert not second.webhooks.deliver
    assert not first.database.migrate_on_start and not second.database.migrate_on_start
    assert settings.gateway.materialize and settings.database.migrate_on_start  # not changed


async def _publish(data_dir: Path) -> PrivateKey:
    """A consumer member and three certificates on the SQL log, not yet materialized."""
    key = generate_private_key("ed25519")
    settings = Settings(
        data_dir=data_dir,
        gateway=GatewaySettings(materialize=False, audit_anchor_interval_s=0),
        webhooks=WebhooksSettings(deliver=False),
    )
    async with open_services(settings) as svc:
        grant = Grant("certificate", "YYZZ", PURPOSE)
        await svc.members.add_member(
            "window", ["consumer"], keys=[key.public_key()], grants=[grant]
        )
        records = [certificate(c) | {"holder": person(i + 1)} for i, c in enumerate(CERTS)]
        await svc.log.append("certificates", [svc.codec.encode("Certificate", r) for r in records])
    return key


def _workers_of(parent: int) -> set[int]:
    """The pids of the gateway workers `parent` started (not multiprocessing's helper)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if int(ppid) == parent and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


async def _wait_until(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.2)


async def _lookup(url: str, key: PrivateKey, cert_id: str) -> int:
    # A generous timeout: a lookup the client gave up on may still be served and counted, and
    # the test compares its count with the gateway's.
    async with GatewayClient(url, member_id="window", private_key=key, timeout=120) as client:
        try:
            answer = await client.certificate(cert_id, purpose=PURPOSE, case="SL-UNSEEN-1")
        except GatewayRefused as refused:
            return refused.status
    assert answer.data["record"]["cert_id"] == cert_id and answer.verified is not None
    return 200


async def _replayed(url: str, key: PrivateKey, copies: int) -> Counter[int]:
    """One signed request sent `copies` times at once, each on a connection of its own."""
    target = f"{url}/v1/certificates/{CERTS[0]}"
    headers = sign_request(
        "GET",
        target,
        {"Gov-Purpose": PURPOSE, "Gov-Case": "SL-UNSEEN-1"},
        keyid=key_id(key),
        private_key=key,
    )

    async def send() -> int:
        async with httpx.AsyncClient() as http:
            return (await http.get(target, headers=headers)).status_code

    return Counter(await asyncio.gather(*(send() for _ in range(copies))))


def _requests_counted(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("govgate_requests_total{") and "/v1/certificates/{cert_id}" in line
    )


def test_two_workers_share_one_port_nonces_and_metrics_and_come_back_when_killed(
    govgate_bin: str, data_dir: Path
) -> None:
    key = asyncio.run(_publish(data_dir))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_GATEWAY_PORT": str(port)}
    output = data_dir / "up.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [govgate_bin, "up", "--workers", "2"], env=env, stdout=out, stderr=out
        )
    sent = 0
    try:

        async def scenario() -> None:
            nonlocal sent

            async def serving() -> bool:  # not a /v1 request: not in the count below
                try:
                    async with httpx.AsyncClient(timeout=120) as http:
                        return (await http.get(f"{url}/healthz")).status_code == 200
                except httpx.TransportError:  # not listening yet
                    return False

            async def materialized() -> bool:  # worker 0's materializer, from the log
                nonlocal sent
                status = await _lookup(url, key, CERTS[-1])
                sent += 1  # answered: 404 until materialized
                return status == 200

            await _wait_until(serving, "the workers serving")
            await _wait_until(materialized, "a published certificate served")
            assert len(_workers_of(process.pid)) == 2, output.read_text()

            statuses = await asyncio.gather(*(_lookup(url, key, c) for c in CERTS * 6))
            sent += len(statuses)
            assert statuses == [200] * len(statuses)

            replays = await _replayed(url, key, 8)  # whichever workers the 8 reach
            sent += 8
            assert replays == Counter({200: 1, 401: 7}), replays

        asyncio.run(scenario())
        assert _requests_counted(url) == sent  # every worker's requests, in any one scrape
        for _ in range(4):  # each on a new connection, to whichever worker
            asyncio.run(_lookup(url, key, CERTS[0]))
        assert _requests_counted(url) == sent + 4

        victim = min(_workers_of(process.pid))
        os.kill(victim, signal.SIGKILL)

        async def replaced() -> bool:
            workers = _workers_of(process.pid)
            if len(workers) != 2 or victim in workers:
                return False
            # the replacement has started its app (until then the other worker serves alone)
            if output.read_text().count("Application startup complete") < 3:
                return False
            return all(
                s == 200 for s in await asyncio.gather(*(_lookup(url, key, c) for c in CERTS))
            )

        asyncio.run(_wait_until(replaced, "the killed worker replaced and serving"))
        assert f"(pid {victim}) exited with -9" in output.read_text()
    finally:
        workers = _workers_of(process.pid)
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    assert code == 0, output.read_text()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # none left behind
    log = output.read_text()
    assert log.count("Application shutdown complete") >= 2, log  # each stopped gracefully
    assert person(1)["id_number"] not in log  # no personal id in the log
