"""Material downloads: the gateway (signed, authorized, audited, digest-checked, streamed) against
a bare static-file response of the same bytes, in the same run, under the same load generator.

Usage: python bench/download.py [--mb 20] [--connections C] [--seconds S]

Both servers are real uvicorn processes on loopback ports, children of this one, run one after
the other (never together, so they do not share the CPUs):
  gateway   create_app on SQLite in a temporary folder with the directory file store: a
            member with a material grant, one material of `--mb` MB in the store and the
            lookup store; each request verified (RFC 9421, nonce stored once), authorized,
            audited (its row, with the file's SHA-256, committed before the first byte), the
            head signed over Content-Digest, the bytes hashed while they stream
  static    Starlette's FileResponse of the same stored file: no signature, no check
First one download through `GatewayClient.download_material` (signature and digest verified,
bytes compared with the original) for correctness. Then, per server, C connections download the
file over and over for S seconds, reading each body to the end and discarding it. The server's
resident memory is sampled every 50 ms: a streamed download keeps it flat, a buffered one would
grow by the file's size per request. Prints human-readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PURPOSE = "11330802002493025K3330111703000"  # 事项编码
MEMBER = "window"
HOLDER = "91330802MA2D4K7X0X"
MATERIAL = "BENCH-0001"
KEY_FILE = "window.private.pem"


def settings(data_dir: Path) -> Any:
    from gateway.settings import GatewaySettings, Settings

    return Settings(
        data_dir=data_dir,
        gateway=GatewaySettings(
            audit_secret="bench-audit-secret-0123456789", materialize=False, port=0
        ),
    )


async def prepare(data_dir: Path, megabytes: int) -> tuple[str, Path]:
    """The material: random bytes written and stored in chunks; its record in the lookup store."""
    from gateway.api.app import create_app
    from gateway.files.directory import DirectoryFileStore
    from gateway.lookup import replay
    from gateway.members.keys import generate_private_key, write_key_pair
    from gateway.members.store import Grant
    from schemas.codec import EventCodec
    from tests.samples import material

    original = data_dir / "original.bin"
    with original.open("wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(1 << 20))

    async def chunks() -> Any:
        with original.open("rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk

    store = DirectoryFileStore(settings(data_dir).files_dir)
    await store.start()
    stored = await store.put(chunks())
    record = material()
    record.update(
        material_id=MATERIAL,
        sha256=stored.sha256,
        size_bytes=stored.size,
        storage_uri=stored.uri,
        content_type="application/pdf",
        reusable=True,
        valid_until=None,
    )
    record["holder"]["id_number"] = HOLDER
    app = create_app(settings(data_dir))
    async with app.router.lifespan_context(app):
        svc = app.state.services
        key = generate_private_key("ed25519")
        write_key_pair(data_dir, key, name="window")
        grant = Grant("material", record["catalog_code"])
        await svc.members.add_member(
            MEMBER, ("consumer",), keys=[key.public_key()], grants=(grant,)
        )
        await svc.log.append("materials", [EventCodec().encode("Material", record)])
        await replay(svc.log, svc.engine, streams=["materials"])
    return stored.sha256, store.root / "sha256" / stored.sha256[:2] / stored.sha256


def serve(kind: str, data_dir: Path, port: int, path: str) -> None:
    """Run one server in this (child) process until terminated."""
    import uvicorn

    if kind == "gateway":
        from gateway.api.app import create_app

        app: Any = create_app(settings(data_dir), freeze_heap=True)
    else:
        from starlette.applications import Starlette
        from starlette.responses import FileResponse
        from starlette.routing import Route

        async def static(request: Any) -> FileResponse:
            return FileResponse(path, media_type="application/pdf")

        app = Starlette(routes=[Route("/v1/materials/{material_id}/content", static)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start(kind: str, data_dir: Path, path: Path) -> tuple[subprocess.Popen[bytes], int]:
    from tests.conftest import free_port

    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--data", str(data_dir)]
    command += ["--port", str(port), "--path", str(path)]
    process = subprocess.Popen(command, cwd=ROOT)
    deadline = time.monotonic() + 60
    import socket

    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process, port
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(
    port: int, data_dir: Path, connections: int, seconds: float, pid: int
) -> dict[str, float]:
    import httpx

    from gateway.members.keys import read_private_key
    from gateway.signatures import sign_request

    key = read_private_key(data_dir / KEY_FILE)
    path = f"/v1/materials/{MATERIAL}/content"
    base = f"http://127.0.0.1:{port}"

    def headers() -> dict[str, str]:
        from gateway.members.keys import key_id

        sent = {"Gov-Purpose": PURPOSE}
        return sign_request("GET", base + path, sent, keyid=key_id(key), private_key=key)

    total = 0
    done = 0
    peak = rss_mb(pid)
    stop_at = 0.0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal total, done
        while time.monotonic() < stop_at:
            async with client.stream("GET", path, headers=headers()) as response:
                assert response.status_code == 200, response.status_code
                async for chunk in response.aiter_raw():
                    total += len(chunk)
            done += 1

    async def sampler() -> None:
        nonlocal peak
        while time.monotonic() < stop_at:
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        stop_at = time.monotonic() + 1  # warm-up: one round per connection
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        before = rss_mb(pid)
        total = done = 0
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(sampler(), *(worker(client) for _ in range(connections)))
        elapsed = time.monotonic() - started
    return {
        "mb_per_s": total / elapsed / 1e6,
        "downloads": done,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
    }


async def check_once(port: int, data_dir: Path, original: Path) -> str:
    from gateway.client import GatewayClient
    from gateway.members.keys import read_private_key

    key = read_private_key(data_dir / KEY_FILE)
    target = data_dir / "downloaded.bin"
    async with GatewayClient(f"http://127.0.0.1:{port}", member_id=MEMBER, private_key=key) as gw:
        got = await gw.download_material(MATERIAL, target, purpose=PURPOSE)
    same = _sha256(target) == _sha256(original) == got.sha256
    target.unlink()
    if not same:
        raise SystemExit("the downloaded file differs from the original")
    return got.sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="govgate-bench-") as folder:
        data_dir = Path(folder)
        sha256, stored = asyncio.run(prepare(data_dir, args.mb))
        print(f"material: {args.mb} MB, sha256 {sha256[:16]}…")
        figures: dict[str, Any] = {"file_mb": args.mb, "connections": args.connections}
        for kind in ("gateway", "static"):
            process, port = start(kind, data_dir, stored)
            try:
                if kind == "gateway":
                    asyncio.run(check_once(port, data_dir, data_dir / "original.bin"))
                    print(
                        "gateway: one download through GatewayClient verified (signature, digest)"
                    )
                result = asyncio.run(
                    load(port, data_dir, args.connections, args.seconds, process.pid)
                )
            finally:
                stop(process)
            print(
                f"{kind:8} {result['mb_per_s']:8.1f} MB/s  {result['downloads']:4d} downloads  "
                f"RSS {result['rss_before_mb']:.1f} → peak {result['peak_rss_mb']:.1f} MB"
            )
            figures[kind] = {k: round(v, 1) for k, v in result.items()}
        figures["ratio"] = round(figures["gateway"]["mb_per_s"] / figures["static"]["mb_per_s"], 2)
        growth = figures["gateway"]["peak_rss_mb"] - figures["gateway"]["rss_before_mb"]
        figures["gateway_rss_growth_mb"] = round(growth, 1)
        print(f"ratio gateway/static {figures['ratio']}; gateway RSS growth {growth:.1f} MB")
        return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--serve", choices=("gateway", "static"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(parsed.serve, parsed.data, parsed.port, parsed.path)
    else:
        print(json.dumps(main(parsed)))
