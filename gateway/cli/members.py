"""`govgate keys` and `govgate members`: key pairs, and the members that may call the gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from gateway.members.errors import MembersError
from gateway.members.keys import (
    ALGORITHMS,
    ALIASES,
    PublicKey,
    check_allowed,
    generate_private_key,
    parse_algorithm,
    read_public_key,
    write_key_pair,
)
from gateway.members.store import ALL_FIELDS, ROLES, Grant, Member, MemberKey, MembersStore
from gateway.publishing import PublishingStore, PublishScope
from gateway.settings import Settings
from gateway.store import open_database

T = TypeVar("T")

_PEM_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(exc: MembersError) -> click.ClickException:
    return click.ClickException(str(exc))  # "CODE: detail", the same code the API would give


def _with_store(action: Callable[[MembersStore], Awaitable[T]]) -> T:
    """Run `action` on the members store of the configured database (migrated first)."""

    async def run() -> T:
        async with open_database(Settings()) as engine:
            return await action(MembersStore(engine))

    try:
        return asyncio.run(run())
    except MembersError as exc:
        raise _fail(exc) from exc


@click.group()
def keys() -> None:
    """Key pairs (Ed25519, ECDSA P-256 or SM2) for members and for the gateway itself."""


@keys.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for NAME.private.pem (mode 0600) and NAME.public.pem.",
)
@click.option(
    "--alg",
    type=click.Choice([*ALGORITHMS, *ALIASES]),
    default="ed25519",
    show_default=True,
    help="RFC 9421 algorithm name; sm2 is sm2-sm3 (国密 SM2 with SM3).",
)
@click.option("--name", default=None, help="File name stem; default: the key id.")
def generate(out_dir: Path, alg: str, name: str | None) -> None:
    """Generate a key pair and print its key id (the RFC 7638 thumbprint).

    The files are PKCS#8 (private, mode 0600) and SubjectPublicKeyInfo (public) PEM; an SM2
    pair is what OpenSSL, Tongsuo and GmSSL write for the curve sm2p256v1.
    """
    try:
        files = write_key_pair(out_dir, generate_private_key(parse_algorithm(alg)), name=name)
    except MembersError as exc:
        raise _fail(exc) from exc
    click.echo(files.keyid)
    click.echo(
        f"wrote {files.alg} {files.private_path} (private, 0600) and {files.public_path}", err=True
    )


def _member_key(path: Path) -> PublicKey:
    """A member's public key from its PEM file, of an algorithm `gateway.algorithms` allows."""
    try:
        key = read_public_key(path)
        check_allowed(key, Settings().gateway.algorithms)
    except MembersError as exc:
        raise _fail(exc) from exc
    return key


@click.group()
def members() -> None:
    """Members (成员单位): the systems that may call the gateway, with roles, keys, grants."""


def _grants(texts: tuple[str, ...], all_fields: bool = False) -> list[Grant]:
    """The grants; with `all_fields`, those naming no field get the all-fields marker."""
    try:
        grants = [Grant.parse(text) for text in texts]
        if all_fields:
            grants = [
                g if g.fields else Grant(g.kind, g.code, g.purpose, (ALL_FIELDS,)) for g in grants
            ]
        return grants
    except MembersError as exc:
        raise _fail(exc) from exc


_GRANT_HELP = (
    "Repeatable KIND:CODE:PURPOSE[:FIELD,…]; KIND is certificate, material, credit (a list "
    "code), notice (a department code) or case (an item code's case events; '*' every item), "
    "PURPOSE an item code (事项编码) or '*', FIELDs the 有条件共享 fields shown (none: none; "
    "personal id numbers such as holder.id_number only when named)."
)
_ALL_FIELDS_HELP = (
    "Grants that name no field show every field of 有条件共享 records ('*'), personal id "
    "numbers still masked unless named: a choice to make on purpose."
)


@members.command("add")
@click.argument("member_id")
@click.option(
    "--role", "roles", multiple=True, required=True, help=f"Repeatable: {', '.join(ROLES)}."
)
@click.option("--public-key", "public_key", required=True, type=_PEM_FILE, help="PEM file.")
@click.option("--grant", "grant_texts", multiple=True, help=_GRANT_HELP)
@click.option("--all-fields", is_flag=True, help=_ALL_FIELDS_HELP)
@click.option("--name", default=None, help="Display name; default: the member id.")
@click.option(
    "--department",
    default=None,
    help="部门编码 of its department (the data bureau's is governance.bureau_code, DSJJ).",
)
def add_member(
    member_id: str,
    roles: tuple[str, ...],
    public_key: Path,
    grant_texts: tuple[str, ...],
    all_fields: bool,
    name: str | None,
    department: str | None,
) -> None:
    """Register MEMBER_ID (e.g. kecheng-window) with its public key, department and grants
    (each grant an audited governance action, as `members grant` makes it)."""
    grants = _grants(grant_texts, all_fields)
    key = _member_key(public_key)
    member = _with_store(
        lambda store: store.add_member(
            member_id, roles, name=name, keys=[key], department=department
        )
    )
    _operator_grants(member_id, grants)
    click.echo(
        f"added {member.member_id} ({', '.join(member.roles)}) with 1 key and "
        f"{len(grants)} grant(s)"
    )


@members.command("grant")
@click.argument("member_id")
@click.option("--grant", "grant_texts", multiple=True, required=True, help=_GRANT_HELP)
@click.option("--all-fields", is_flag=True, help=_ALL_FIELDS_HELP)
def grant(member_id: str, grant_texts: tuple[str, ...], all_fields: bool) -> None:
    """Add grants to MEMBER_ID (a grant given again replaces its field list)."""
    grants = _grants(grant_texts, all_fields)
    _operator_grants(member_id, grants)
    click.echo(f"granted {len(grants)} to {member_id}")


def _operator_grants(member_id: str, grants: list[Grant]) -> None:
    """The operator's grants, made as an approval's are: the same records, each audited and
    on the governance stream (gateway.governance.grants)."""
    if not grants:
        return
    from gateway.cli.governance import ERRORS, opened

    async def run() -> None:
        async with opened(Settings()) as found:
            await found.members.get_member(member_id)  # UNKNOWN_MEMBER before anything
            for item in grants:
                await found.governance.grants.grant_by_operator(member_id, item)

    try:
        asyncio.run(run())
    except MembersError as exc:
        raise _fail(exc) from exc
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


@members.command("set-department")
@click.argument("member_id")
@click.argument("department", required=False)
def set_department(member_id: str, department: str | None) -> None:
    """Put MEMBER_ID in DEPARTMENT (部门编码; none given: in no department). A department's
    members publish its catalogue entries and decide applications for its resources."""
    member = _with_store(lambda store: store.set_department(member_id, department))
    click.echo(f"{member.member_id} in {member.department or 'no department'}")


@members.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per member.")
def list_members(as_json: bool) -> None:
    """Every member with its roles, keys, grants and publish scopes."""
    scopes: dict[str, list[PublishScope]] = {}

    async def run(store: MembersStore) -> list[tuple[Member, list[MemberKey], list[Grant]]]:
        scopes.update(await PublishingStore(store.engine).all_scopes())
        return [
            (m, await store.keys_of(m.member_id), await store.grants_for(m.member_id))
            for m in await store.list_members()
        ]

    now = datetime.now(UTC)
    for member, member_keys, grants in _with_store(run):
        published = scopes.get(member.member_id, [])
        status = "active" if member.active else "revoked"
        key_rows = [
            {"keyid": k.keyid, "alg": k.alg, "status": k.inactive_reason(now) or "active"}
            for k in member_keys
        ]
        if as_json:
            entry = {
                "member_id": member.member_id,
                "name": member.name,
                "roles": list(member.roles),
                "department": member.department,
                "status": status,
                "keys": key_rows,
                "grants": [str(g) for g in grants],
                "publishes": [str(p) for p in published],
            }
            click.echo(json.dumps(entry, ensure_ascii=False))
            continue
        click.echo(f"{member.member_id} ({member.name}) {status}")
        click.echo(f"  roles: {', '.join(member.roles)}")
        if member.department:
            click.echo(f"  department: {member.department}")
        for row in key_rows:
            click.echo(f"  key {row['keyid']} {row['alg']} {row['status']}")
        for item in grants:
            click.echo(f"  grant {item}")
        for scope in published:
            click.echo(f"  publishes {scope}")


@members.command("revoke")
@click.argument("member_id")
def revoke(member_id: str) -> None:
    """Revoke MEMBER_ID and all its keys; its requests are refused from now on."""
    member = _with_store(lambda store: store.revoke_member(member_id))
    click.echo(f"revoked {member.member_id}")


@members.command("add-key")
@click.argument("member_id")
@click.option("--public-key", "public_key", required=True, type=_PEM_FILE, help="PEM file.")
def add_key(member_id: str, public_key: Path) -> None:
    """Add a key to MEMBER_ID (roll-over: the old key stays valid until revoked; the new
    one may be of another algorithm, e.g. SM2 beside Ed25519)."""
    key = _member_key(public_key)
    added = _with_store(lambda store: store.add_key(member_id, key))
    click.echo(added.keyid)


@members.command(
    "revoke-key",
    # a key id is base64url and may start with '-': take it as the argument, not an option
    context_settings={"ignore_unknown_options": True},
)
@click.argument("keyid")
def revoke_key(keyid: str) -> None:
    """Revoke one key (the end of a roll-over, or a leaked key)."""
    key = _with_store(lambda store: store.revoke_key(keyid))
    click.echo(f"revoked key {key.keyid} of {key.member_id}")
