"""Certificate lookups: the gateway (signed, authorized, audited, signed back) against the
signed floor and a bare FastAPI endpoint returning the same JSON, in the same run, under the
same load generator.

Usage: python bench/lookup.py [--certificates N] [--connections C] [--seconds S] [--warmup W]
                              [--workers P] [--postgres URL] [--alg ed25519|sm2] [--py-spy]

The servers are real uvicorn processes on loopback ports, children of this one, run one after
the other (never together, so they do not share the CPUs):
  gateway   create_app on SQLite in a temporary folder (or, with --postgres URL, on a new
            database on that PostgreSQL server, dropped after): members, keys and grants, N
            certificates materialized from the log; each request verified (RFC 9421 signature,
            key lookup, nonce stored once), authorized for its purpose, looked up, masked,
            audited (its row committed before the answer) and the response signed; Ed25519
            member and gateway keys, SHA-256 response digests
  gateway-sm2  with --alg sm2, then the same on an SM-only gateway (国密: GOVGATE_GATEWAY_
            ALGORITHMS=["sm2-sm3", "sm3"]) in a fresh folder or database: SM2 member and gateway
            keys, requests asking Want-Content-Digest: sm3, responses signed sm2-sm3 with SM3
            digests, audit rows HMAC-SM3 (GOVGATE_GATEWAY_AUDIT_HASH=sm3); printed beside the
            Ed25519 gateway of the same run
  floor     the signed floor, what any RFC 9421 gateway on this stack pays: one FastAPI route
            that parses Signature-Input and Signature, builds the request's signature base for
            govgate's message shape (gateway.signatures.base, the gateway's own fast path),
            verifies the Ed25519 signature with the member's key from a dict, and signs the
            response (Content-Digest, and a signature bound to the request) over the same JSON
            from a dict; no nonce, no policy, no database
  baseline  one FastAPI route that returns a certificate lookup's JSON from a dict in memory
With --workers P, each server runs P processes on its port: the gateway as `govgate up
--workers P` does (gateway.api.workers.WorkerPool), the floor and the baseline under
uvicorn's own workers.
The load generator is raw asyncio HTTP/1.1 over C keep-alive connections, each sending its
next request as soon as the previous answer is read, for S seconds after W seconds of warm-up.
Gateway requests are signed before timing starts (a pool with distinct nonces, one per
request), so client-side signing does not count against the gateway; the floor and the
baseline receive the same request bytes, cycled (neither checks a nonce). Prints
human-readable lines, then one JSON line with the figures.

With --py-spy (py-spy is in the [dev] extra), the gateway is also profiled over the measured
window (`bench/spy.py`: py-spy record --gil --nonblocking on the server and its workers)
and the top frames are printed, by inclusive and by self share. py-spy takes CPU of its own
while it samples, so the gateway's figures of such a run are not for comparing with others.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request  # at module level: the floor's route annotation resolves here

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import spy  # noqa: E402  (bench/spy.py, beside this file)

PURPOSE = "11330802002493025K3330111703000"  # 事项编码
MEMBER = "window"
KEY_FILE = "window.private.pem"
PAYLOAD_FILE = "baseline.json"
PAYLOAD_ENV = "GOVGATE_BENCH_PAYLOAD"
DATABASE_ENV = "GOVGATE_BENCH_DB"


def cert_id(i: int) -> str:
    return f"330802-YYZZ-{i:06d}"


PROFILES: dict[str, dict[str, Any]] = {  # the gateway's algorithms: GatewaySettings overrides
    "ed25519": {},
    # SM-only: its key SM2, its digests SM3, its audit chain HMAC-SM3
    "sm2": {"algorithms": ("sm2-sm3", "sm3"), "audit_hash": "sm3"},
}
MEMBER_ALG = {"ed25519": "ed25519", "sm2": "sm2-sm3"}


def gateway_settings(data_dir: Path, profile: str = "ed25519") -> Any:
    """The gateway's settings: SQLite in `data_dir`, or the database in $GOVGATE_BENCH_DB."""
    from pydantic import SecretStr

    from gateway.settings import DatabaseSettings, GatewaySettings, Settings

    url = os.environ.get(DATABASE_ENV)
    return Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=SecretStr(url) if url else None),
        gateway=GatewaySettings(
            audit_secret=SecretStr("bench-audit-secret-0123456789"),
            materialize=False,
            **PROFILES[profile],
        ),
    )


@contextlib.contextmanager
def fresh_postgres(server_url: str | None) -> Iterator[None]:
    """With a PostgreSQL URL, a new database on that server for this run (dropped after),
    named to the gateway and its workers by $GOVGATE_BENCH_DB."""
    if server_url is None:
        yield
        return
    import asyncpg

    name = f"govgate_bench_{os.getpid()}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    os.environ[DATABASE_ENV] = f"{server_url.rpartition('/')[0]}/{name}"
    try:
        yield
    finally:
        os.environ.pop(DATABASE_ENV, None)
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def prepare(data_dir: Path, certificates: int, profile: str = "ed25519") -> None:
    """Members, the window's key and grant, and `certificates` certificates materialized."""
    from gateway.api.services import open_services
    from gateway.lookup import replay
    from gateway.members.keys import generate_private_key, write_key_pair
    from gateway.members.store import Grant
    from tests.samples import certificate, person

    key = generate_private_key(MEMBER_ALG[profile])  # type: ignore[arg-type]
    write_key_pair(data_dir, key, name=KEY_FILE.removesuffix(".private.pem"))
    async with open_services(gateway_settings(data_dir, profile)) as svc:
        grant = Grant("certificate", "YYZZ", PURPOSE)
        await svc.members.add_member(MEMBER, ["consumer"], keys=[key.public_key()], grants=[grant])
        batch = []
        for i in range(certificates):
            record = certificate(cert_id(i)) | {"holder": person(i % 900 + 1)}
            batch.append(svc.codec.encode("Certificate", record))
            if len(batch) == 500 or i == certificates - 1:
                await svc.log.append("certificates", batch)
                batch = []
        await replay(svc.log, svc.engine, streams=["certificates"])


def serve(kind: str, data_dir: Path, port: int, workers: int, profile: str = "ed25519") -> None:
    """A child process: the gateway or the baseline under uvicorn on 127.0.0.1:`port`, in
    `workers` processes (the gateway's as `govgate up --workers`, the baseline's uvicorn's)."""
    import uvicorn

    if kind in ("baseline", "floor"):
        os.environ[PAYLOAD_ENV] = str(data_dir / PAYLOAD_FILE)
        uvicorn.run(
            f"bench.lookup:{kind}_app",
            factory=True,
            workers=workers,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
        return
    if workers > 1:
        from gateway.api.workers import WorkerPool

        pool = WorkerPool(gateway_settings(data_dir, profile), "127.0.0.1", port, workers)

        async def run_pool() -> None:
            stop = asyncio.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)
            await pool.run(stop)

        asyncio.run(run_pool())
        return
    from gateway.api.app import create_app
    from gateway.api.workers import server_config

    settings = gateway_settings(data_dir, profile)
    app = create_app(settings, freeze_heap=True)  # as `govgate up`, its uvicorn guarded too
    with contextlib.suppress(KeyboardInterrupt):  # stopped with SIGINT, as uvicorn.run is
        uvicorn.Server(server_config(app, "127.0.0.1", port, settings.gateway)).run()


def baseline_app() -> Any:
    """The baseline: one FastAPI route returning a certificate lookup's JSON from memory."""
    from fastapi import FastAPI

    payload = json.loads(Path(os.environ[PAYLOAD_ENV]).read_text())
    app = FastAPI()

    @app.get("/v1/certificates/{cert_id}")
    async def lookup(cert_id: str) -> dict[str, Any]:
        return dict(payload)

    return app


def floor_app() -> Any:
    """The signed floor: verify the request's RFC 9421 signature and sign the answer, nothing
    else. The member's public key comes from a dict, the JSON from memory; the signature base
    is built by the gateway's own fast path, the same code the gateway runs."""
    from fastapi import FastAPI, Response

    from gateway.members.keys import generate_private_key, key_id, read_private_key
    from gateway.signatures import base as fast
    from gateway.signatures.algorithms import ALGORITHMS
    from gateway.signatures.digests import content_digest
    from gateway.signatures.messages import LABEL, RESPONSE_COMPONENTS

    data_dir = Path(os.environ[PAYLOAD_ENV]).parent
    member = read_private_key(data_dir / KEY_FILE)
    keys = {key_id(member): member.public_key()}  # the member keys, by key id
    own = generate_private_key("ed25519")
    own_keyid, signer = key_id(own), ALGORITHMS["ed25519"](private_key=own)
    verifiers = {k: ALGORITHMS["ed25519"](public_key=v) for k, v in keys.items()}
    payload = json.loads(Path(os.environ[PAYLOAD_ENV]).read_text())
    app = FastAPI()

    @app.get("/v1/certificates/{cert_id}")
    async def lookup(cert_id: str, request: Request) -> Response:
        fields = fast.field_lines(request.headers)
        found = fast.parse_signature(fields)
        if found is None:
            return Response(status_code=401)
        host = fields.get("host", "")
        url = f"http://{host}{request.scope['raw_path'].decode('latin-1')}"
        message = fast.Message(request.method, url, fields)
        base = fast.signature_base(message, found.components, found.serialized)
        verifier = verifiers.get(str(found.params.get("keyid")))
        created = found.params.get("created")
        if base is None or verifier is None or not isinstance(created, int):
            return Response(status_code=401)
        if abs(time.time() - created) > 330:
            return Response(status_code=401)
        try:
            verifier.verify(base64.b64decode(found.signature[1:-1]), base)
        except Exception:  # noqa: BLE001 - any failure is a refusal
            return Response(status_code=401)
        body = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "content-length": str(len(body))}
        answer = fast.Message("", "", headers, 200, message)
        specs = [*RESPONSE_COMPONENTS, f'"signature";req;key="{found.label}"']
        params: dict[str, int | str] = {
            "created": int(time.time()),
            "keyid": own_keyid,
            "alg": "ed25519",
        }
        added = fast.sign(answer, specs, content_digest(body), LABEL, params, signer.sign)
        if added is None:
            return Response(status_code=500)
        return Response(body, 200, headers | added)

    return app


def signed_pool(
    data_dir: Path, count: int, certificates: int, host: str, profile: str = "ed25519"
) -> list[bytes]:
    """`count` requests as bytes on the wire, each signed with a nonce of its own (an SM2
    member's ask for SM3 response digests, as `GatewayClient` does)."""
    from gateway.members.keys import key_id, read_private_key
    from gateway.signatures import sign_request

    key = read_private_key(data_dir / KEY_FILE)
    keyid = key_id(key)
    rng = random.Random(1)
    asked = {"Gov-Purpose": PURPOSE, "Gov-Case": "SL-BENCH-0001"}  # 有条件共享: bound to a case
    if profile == "sm2":
        asked["Want-Content-Digest"] = "sm3=10"
    pool = []
    for _ in range(count):
        path = f"/v1/certificates/{cert_id(rng.randrange(certificates))}"
        headers = sign_request(  # for the gateway at `host` (@authority is signed)
            "GET", f"http://{host}{path}", asked, keyid=keyid, private_key=key
        )
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        pool.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    return pool


@dataclass
class Load:
    """What the connections share: the requests left, the clock, and what they measured."""

    requests: list[bytes]
    measure_from: float
    until: float
    cycle: bool  # reuse the requests (the baseline checks no nonce); else each is sent once
    next: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ran_out_at: float | None = None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    return status, await reader.readexactly(length)


async def connection(port: int, load: Load) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (now := time.perf_counter()) < load.until:
            if load.next >= len(load.requests) and not load.cycle:
                load.ran_out_at = load.ran_out_at or now
                return
            request = load.requests[load.next % len(load.requests)]
            load.next += 1
            started = time.perf_counter()
            writer.write(request)
            status, _ = await _read_response(reader)
            ended = time.perf_counter()
            if started >= load.measure_from:
                load.latencies.append(ended - started)
                load.statuses[status] = load.statuses.get(status, 0) + 1
    finally:
        writer.close()
        await writer.wait_closed()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` and every process under it (a server's
    workers), from /proc; None where there is no /proc."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(times.get(p, 0.0) for p in tree) if pid in times else None


async def run_load(
    port: int,
    requests: list[bytes],
    connections: int,
    warmup: float,
    seconds: float,
    *,
    cycle: bool = False,
    pid: int | None = None,
    at_start: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The load's figures; with `pid`, also the server's CPU per request in the window (the
    figure least moved by other work on the machine: throughput shifts with whatever else
    runs, the CPU a request costs much less)."""
    start = time.perf_counter()
    load = Load(requests, start + warmup, start + warmup + seconds, cycle)

    async def cpu_at_start() -> float | None:
        await asyncio.sleep(warmup)
        if at_start is not None:
            at_start()  # the measured window begins
        return None if pid is None else cpu_seconds(pid)

    sampled, *_ = await asyncio.gather(
        cpu_at_start(), *(connection(port, load) for _ in range(connections))
    )
    cpu_end = None if pid is None else cpu_seconds(pid)
    ended = min(load.until, load.ran_out_at or load.until)
    window = ended - load.measure_from
    ordered = sorted(load.latencies)
    if not ordered:
        raise RuntimeError("no request completed in the measured window")
    cpu_ms = None
    if sampled is not None and cpu_end is not None:
        cpu_ms = round((cpu_end - sampled) * 1000 / len(ordered), 3)
    return {
        "cpu_ms": cpu_ms,
        "rps": round(len(ordered) / window, 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "requests": len(ordered),
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "seconds": round(window, 2),
        "pool_exhausted": load.ran_out_at is not None,
    }


def start_server(
    kind: str, data_dir: Path, workers: int, profile: str = "ed25519"
) -> tuple[subprocess.Popen[bytes], int]:
    from tests.conftest import _wait_for_port, free_port

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--profile",
            profile,
        ]
    )
    if not _wait_for_port(port, 60):
        process.kill()
        raise RuntimeError(f"the {kind} server did not listen on {port}")
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def first_answer(port: int, request: bytes) -> tuple[int, bytes]:
    async def once() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        answer = await _read_response(reader)
        writer.close()
        await writer.wait_closed()
        return answer

    return asyncio.run(once())


def run_gateway(
    args: argparse.Namespace, profile: str
) -> tuple[dict[str, Any], list[bytes], bytes, bytes]:
    """One gateway's figures under load, its pre-signed requests, its first answer's body and
    the member's key, PEM (in a folder, and with --postgres a database, of its own)."""
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres(args.postgres):
        data_dir = Path(tmp)
        started = time.perf_counter()
        asyncio.run(prepare(data_dir, args.certificates, profile))
        print(
            f"[{profile}] {args.certificates:,} certificates materialized: "
            f"{time.perf_counter() - started:.1f}s"
        )
        started = time.perf_counter()
        pool = signed_pool(data_dir, args.pool, args.certificates, "127.0.0.1", profile)
        print(
            f"[{profile}] {args.pool:,} requests pre-signed (not timed): "
            f"{time.perf_counter() - started:.1f}s"
        )
        gateway, port = start_server("gateway", data_dir, args.workers, profile)
        try:
            status, body = first_answer(port, pool[0])
            if status != 200:
                raise RuntimeError(f"the {profile} gateway answered {status}: {body[:300]!r}")
            sampler: list[subprocess.Popen[bytes]] = []
            raw = Path(tempfile.gettempdir()) / f"govgate-lookup-{profile}-{os.getpid()}.pyspy"

            def start_profile() -> None:
                if args.py_spy:
                    sampler.append(spy.record(gateway.pid, args.seconds, raw))

            figures = asyncio.run(
                run_load(
                    port,
                    pool[1:],
                    args.connections,
                    args.warmup,
                    args.seconds,
                    pid=gateway.pid,
                    at_start=start_profile,
                )
            )
            if sampler:
                _, errors = sampler[0].communicate(timeout=args.seconds + 60)
                if sampler[0].returncode != 0 or not raw.exists():
                    print(f"py-spy failed: {errors.decode(errors='replace').strip()[-500:]}")
                else:
                    figures["profile"] = spy.print_top(raw)
        finally:
            stop(gateway)
        member_key = (data_dir / KEY_FILE).read_bytes()
    return figures, pool, body, member_key


def _cpu_ratio(cheaper: dict[str, Any], dearer: dict[str, Any]) -> float | None:
    """CPU per request of `cheaper` over `dearer`: the throughput ratio a machine with nothing
    else to do would show, as far as CPU bounds both."""
    if not cheaper["cpu_ms"] or not dearer["cpu_ms"]:
        return None
    return round(cheaper["cpu_ms"] / dearer["cpu_ms"], 2)


def run_yardstick(
    args: argparse.Namespace, pool: list[bytes], body: bytes, member_key: bytes, kind: str
) -> dict[str, Any]:
    """The floor's or the baseline's figures, answering with `body` (the gateway's first
    answer) to the gateway's own signed requests, cycled."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        (data_dir / PAYLOAD_FILE).write_bytes(body)  # the JSON both answer with
        if kind == "floor":  # the member's key, to verify with (only its public half is used)
            (data_dir / KEY_FILE).write_bytes(member_key)
        server, port = start_server(kind, data_dir, args.workers)
        try:
            if kind == "floor":
                status, answer = first_answer(port, pool[0])
                if status != 200:
                    raise RuntimeError(f"the floor answered {status}: {answer[:300]!r}")
            return asyncio.run(
                run_load(
                    port,
                    pool,
                    args.connections,
                    args.warmup,
                    args.seconds,
                    cycle=True,
                    pid=server.pid,
                )
            )
        finally:
            stop(server)


def main(args: argparse.Namespace) -> dict[str, Any]:
    ours, pool, body, member_key = run_gateway(args, "ed25519")
    sm2 = run_gateway(args, "sm2")[0] if args.alg == "sm2" else None
    floor = run_yardstick(args, pool, body, member_key, "floor")
    base = run_yardstick(args, pool, body, member_key, "baseline")
    ratio = round(ours["rps"] / base["rps"], 2)
    floor_ratio = round(ours["rps"] / floor["rps"], 2)
    runs = [("gateway", ours), ("gateway-sm2", sm2), ("floor", floor), ("baseline", base)]
    for name, figures in runs:
        if figures is None:
            continue
        print(
            f"{name:<11} {figures['rps']:>8,.0f} req/s  p50 {figures['p50_ms']:.1f} ms  "
            f"p99 {figures['p99_ms']:.1f} ms  CPU {figures['cpu_ms']} ms/request  "
            f"statuses {figures['statuses']}"
            + ("  (signed pool ran out)" if figures["pool_exhausted"] else "")
        )
    print(
        f"CPU per request, floor/gateway: {_cpu_ratio(floor, ours)}, baseline/gateway: "
        f"{_cpu_ratio(base, ours)} (the ratios an otherwise idle machine would give)"
    )
    print(
        f"ratio gateway/floor: {floor_ratio}, gateway/baseline: {ratio}, floor/baseline: "
        f"{round(floor['rps'] / base['rps'], 2)} at {args.connections} connections, "
        f"{args.workers} worker(s) each, store {'postgresql' if args.postgres else 'sqlite'}, "
        f"cpus {os.cpu_count()}"
    )
    result: dict[str, Any] = {
        "rps": ours["rps"],
        "p50_ms": ours["p50_ms"],
        "p99_ms": ours["p99_ms"],
        "ratio": ratio,
        "floor_ratio": floor_ratio,
        "cpu_ms": ours["cpu_ms"],
        "floor_cpu_ms": floor["cpu_ms"],
        "baseline_cpu_ms": base["cpu_ms"],
        "floor_cpu_ratio": _cpu_ratio(floor, ours),
        "floor_rps": floor["rps"],
        "floor_p50_ms": floor["p50_ms"],
        "floor_p99_ms": floor["p99_ms"],
        "floor_statuses": floor["statuses"],
        "baseline_rps": base["rps"],
        "baseline_p50_ms": base["p50_ms"],
        "baseline_p99_ms": base["p99_ms"],
        "connections": args.connections,
        "workers": args.workers,
        "store": "postgresql" if args.postgres else "sqlite",
        "seconds": args.seconds,
        "certificates": args.certificates,
        "gateway_statuses": ours["statuses"],
        "pool_exhausted": ours["pool_exhausted"],
    }
    if "profile" in ours:
        result["profile"] = ours["profile"]
    if sm2 is not None:
        versus = round(sm2["rps"] / ours["rps"], 2)
        print(
            f"SM2 (SM-only gateway) / Ed25519: {versus} of the requests/s, "
            f"p99 {sm2['p99_ms']:.1f} vs {ours['p99_ms']:.1f} ms"
        )
        result |= {
            "sm2_rps": sm2["rps"],
            "sm2_p50_ms": sm2["p50_ms"],
            "sm2_p99_ms": sm2["p99_ms"],
            "sm2_ratio": round(sm2["rps"] / base["rps"], 2),
            "sm2_vs_ed25519": versus,
            "sm2_statuses": sm2["statuses"],
            "sm2_pool_exhausted": sm2["pool_exhausted"],
        }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--pool", type=int, default=40_000, help="pre-signed requests")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes, the same for both servers"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="store on PostgreSQL: a new database on this server (e.g. "
        "postgresql://postgres@127.0.0.1:5432/test), dropped after; default SQLite",
    )
    parser.add_argument(
        "--alg",
        choices=["ed25519", "sm2"],
        default="ed25519",
        help="sm2: also an SM-only gateway (SM2 keys, SM3 digests), beside Ed25519",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="also profile the gateway over the measured window and print its top frames",
    )
    parser.add_argument("--serve", choices=["gateway", "floor", "baseline"])
    parser.add_argument("--profile", choices=list(PROFILES), default="ed25519")
    parser.add_argument("--data-dir")
    parser.add_argument("--port", type=int)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(parsed.serve, Path(parsed.data_dir), parsed.port, parsed.workers, parsed.profile)
    else:
        print(json.dumps(main(parsed)))
