"""`govgate call` against a real `govgate up` on a port of its own, as an operator would run it:
an Ed25519 member of a default gateway, and an SM2 member of an SM-only (国密) one."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

HOLDER = "91330802MA2D4K7X09"


SM_ONLY = {"GOVGATE_GATEWAY_ALGORITHMS": '["sm2-sm3", "sm3"]'}


@pytest.fixture(params=[("ed25519", {}), ("sm2", SM_ONLY)], ids=["ed25519", "sm-only"])
def setup(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """The member's key algorithm (`keys generate --alg`) and the gateway's settings."""
    found: tuple[str, dict[str, str]] = request.param
    return found


@pytest.fixture
def gateway(
    govgate_bin: str, data_dir: Path, setup: tuple[str, dict[str, str]]
) -> Iterator[dict[str, str]]:
    """A gateway on a free port (not 8080); yields the environment that points at it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVGATE_")}
    env |= {"GOVGATE_DATA_DIR": str(data_dir), "GOVGATE_GATEWAY_PORT": str(free_port())}
    env |= setup[1]
    output = data_dir / "up.log"
    with output.open("wb") as out:
        process = subprocess.Popen([govgate_bin, "up"], env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{env['GOVGATE_GATEWAY_PORT']}/healthz"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, output.read_text()
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "govgate up did not serve in 30 s"
                time.sleep(0.1)
        yield env
    finally:
        process.terminate()
        process.wait(15)
    assert f"govgate: serving on http://127.0.0.1:{env['GOVGATE_GATEWAY_PORT']}" in (
        output.read_text()
    )


def govgate(govgate_bin: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([govgate_bin, *args], env=env, capture_output=True, text=True, timeout=60)


def test_call_reaches_the_gateway_on_the_configured_port(
    govgate_bin: str, gateway: dict[str, str], tmp_path: Path, setup: tuple[str, dict[str, str]]
) -> None:
    keys, alg = tmp_path / "keys", setup[0]
    made = govgate(
        govgate_bin, gateway, "keys", "generate", "--out", str(keys), "--name", "aud", "--alg", alg
    )
    assert made.returncode == 0, made.stderr
    added = govgate(
        govgate_bin, gateway, "members", "add", "portal", "--role", "auditor",
        "--public-key", str(keys / "aud.public.pem"),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    called = govgate(
        govgate_bin, gateway, "call", "--as", "portal", "--key", str(keys / "aud.private.pem"),
        "GET", f"/v1/access-log?holder_id={HOLDER}",
    )  # fmt: skip
    assert called.returncode == 0, called.stderr
    assert "200 signature verified" in called.stderr
    digest = "sm3" if alg == "sm2" else "sha-256"
    assert f"Content-Digest {digest})" in called.stderr
    assert '"items": []' in called.stdout
    if alg == "sm2":  # the gateway signs with SM2 too, and publishes that key only
        with urllib.request.urlopen(
            f"http://127.0.0.1:{gateway['GOVGATE_GATEWAY_PORT']}/.well-known/govgate-keys"
        ) as published:
            assert [k["alg"] for k in json.load(published)["keys"]] == ["SM2SM3"]
