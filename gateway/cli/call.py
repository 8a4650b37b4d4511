"""`govgate call`: one signed request to a gateway, as a member, with the answer verified.

For operators checking a member's access by hand: the request is signed with the member's
private key, the response's signature is checked against the gateway's published keys, and
the JSON is printed, refusals included, with whether the signature verified. An SM2 key
signs `sm2-sm3` and asks for SM3 digests (`--digest` chooses another).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import click

from gateway.client import Answer, GatewayClient, GatewayError, GatewayRefused
from gateway.members.errors import MembersError
from gateway.members.keys import read_private_key
from gateway.settings import Settings
from gateway.signatures.digests import DIGEST_ALGORITHMS, DigestAlgorithm

_PEM_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option("--as", "member_id", required=True, help="The member the request is sent as.")
@click.option("--key", "key_path", required=True, type=_PEM_FILE, help="Its private key (PEM).")
@click.option("--keyid", help="The key id to sign with (default: the key's thumbprint).")
@click.option("--purpose", help="事项编码 sent in Gov-Purpose.")
@click.option("--case", "case_no", help="办件编号 sent in Gov-Case.")
@click.option(
    "--url",
    help="Gateway URL (default: the local gateway of GOVGATE_GATEWAY_HOST and _PORT, "
    "http://127.0.0.1:8080 unless set).",
)
@click.option("--data", help="A JSON body (for POST).")
@click.option(
    "--digest",
    type=click.Choice(DIGEST_ALGORITHMS),
    help="Content-Digest algorithm of the body and of the answer (default: sm3 with an SM2 "
    "key, else sha-256).",
)
@click.argument("method")
@click.argument("path")
def call(
    member_id: str,
    key_path: Path,
    keyid: str | None,
    purpose: str | None,
    case_no: str | None,
    url: str | None,
    data: str | None,
    digest: DigestAlgorithm | None,
    method: str,
    path: str,
) -> None:
    """Send METHOD PATH (e.g. GET '/v1/certificates?holder_id=…') signed, print the answer."""
    try:
        key = read_private_key(key_path)
        body = None if data is None else json.loads(data)
    except (MembersError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    gateway = Settings().gateway
    public_url = None if url else gateway.public_url  # the local gateway checks that authority
    url = url or gateway.local_url
    path, _, query = path.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))

    async def run() -> Answer:
        async with GatewayClient(
            url,
            member_id=member_id,
            private_key=key,
            keyid=keyid,
            digest=digest,
            public_url=public_url,
        ) as gw:
            return await gw.request(
                method.upper(), path, purpose=purpose, case=case_no, json=body, params=params
            )

    try:
        answer = asyncio.run(run())
    except GatewayRefused as refused:
        _show(refused.answer)
        raise SystemExit(1) from refused
    except GatewayError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc  # not verified
    _show(answer)


def _show(answer: Answer) -> None:
    data: Any = answer.data
    digest = answer.response.headers.get("content-digest", "").partition("=")[0] or "none"
    click.echo(
        f"{answer.status} signature verified (gateway key {answer.verified.keyid}, "
        f"Content-Digest {digest})",
        err=True,
    )
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
