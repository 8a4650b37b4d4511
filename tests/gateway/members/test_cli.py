"""`govgate keys` and `govgate members` against a real SQLite database in a temporary folder."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli.members import keys, members
from gateway.crypto.sm2 import SM2PrivateKey
from gateway.members.keys import key_id, read_private_key, read_public_key


@pytest.fixture
def run(data_dir: Path) -> CliRunner:
    """A runner whose settings point at `data_dir`, whatever the developer's environment says."""
    return CliRunner(
        env={
            "GOVGATE_DATA_DIR": str(data_dir),
            "GOVGATE_DATABASE_URL": None,
            "GOVGATE_CONFIG": None,
        }
    )


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def fails_with(result: Result, code: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"Error: {code}: " in result.stderr


def test_keys_generate_writes_a_private_key_only_its_owner_reads(
    run: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "keys"
    keyid = ok(run.invoke(keys, ["generate", "--out", str(out), "--name", "kecheng"])).strip()
    private, public = out / "kecheng.private.pem", out / "kecheng.public.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert key_id(read_private_key(private)) == keyid == key_id(read_public_key(public))
    fails_with(
        run.invoke(keys, ["generate", "--out", str(out), "--name", "kecheng"]), "KEY_FILE_EXISTS"
    )

    ec_id = ok(run.invoke(keys, ["generate", "--out", str(out), "--alg", "ecdsa-p256-sha256"]))
    ec_public = out / f"{ec_id.strip()}.public.pem"  # named after its key id by default
    assert "BEGIN PUBLIC KEY" in ec_public.read_text()
    assert run.invoke(keys, ["generate", "--out", str(out), "--alg", "rsa"]).exit_code == 2


def test_members_add_list_rotate_and_revoke(run: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "keys")
    first = ok(run.invoke(keys, ["generate", "--out", out, "--name", "first"])).strip()
    second = ok(run.invoke(keys, ["generate", "--out", out, "--name", "second"])).strip()
    first_pem, second_pem = f"{out}/first.public.pem", f"{out}/second.public.pem"
    add = [
        "add", "kecheng-window", "--role", "consumer", "--role", "auditor",
        "--public-key", first_pem, "--name", "柯城区窗口",
        "--grant", "certificate:BL001:*", "--grant", "material:MC001:330100-XK-01:name,id_no",
    ]  # fmt: skip
    assert "added kecheng-window (auditor, consumer) with 1 key and 2 grant(s)" in ok(
        run.invoke(members, add)
    )
    fails_with(run.invoke(members, add), "MEMBER_EXISTS")

    listed = ok(run.invoke(members, ["list"]))
    assert "kecheng-window (柯城区窗口) active" in listed
    assert f"key {first} ed25519 active" in listed
    assert "grant material:MC001:330100-XK-01:name,id_no" in listed

    assert ok(run.invoke(members, ["add-key", "kecheng-window", "--public-key", second_pem])) == (
        f"{second}\n"
    )
    assert (
        ok(run.invoke(members, ["revoke-key", first])) == f"revoked key {first} of kecheng-window\n"
    )
    assert ok(run.invoke(members, ["grant", "kecheng-window", "--grant", "certificate:HY002:*"]))
    [entry] = [
        json.loads(line) for line in ok(run.invoke(members, ["list", "--json"])).splitlines()
    ]
    assert entry["roles"] == ["auditor", "consumer"]
    assert [(k["keyid"], k["status"]) for k in entry["keys"]] == [
        (first, "revoked"),
        (second, "active"),
    ]
    assert entry["grants"] == [
        "certificate:BL001:*",
        "certificate:HY002:*",
        "material:MC001:330100-XK-01:name,id_no",
    ]

    assert ok(run.invoke(members, ["revoke", "kecheng-window"])) == "revoked kecheng-window\n"
    [entry] = [
        json.loads(line) for line in ok(run.invoke(members, ["list", "--json"])).splitlines()
    ]
    assert entry["status"] == "revoked"
    assert {k["status"] for k in entry["keys"]} == {"revoked"}


def test_members_refusals(run: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "keys")
    ok(run.invoke(keys, ["generate", "--out", out, "--name", "k"]))
    public, private = f"{out}/k.public.pem", f"{out}/k.private.pem"

    def add(*args: str) -> Result:
        return run.invoke(members, ["add", "x-window", *args])

    fails_with(add("--role", "reader", "--public-key", public), "UNKNOWN_ROLE")
    fails_with(add("--role", "consumer", "--public-key", private), "KEY_FORMAT")
    fails_with(
        add("--role", "consumer", "--public-key", public, "--grant", "cert:B:*"), "INVALID_GRANT"
    )
    fails_with(
        run.invoke(members, ["add", "X Window", "--role", "consumer", "--public-key", public]),
        "INVALID_MEMBER_ID",
    )
    fails_with(run.invoke(members, ["revoke", "nobody"]), "UNKNOWN_MEMBER")
    fails_with(run.invoke(members, ["revoke-key", "nokey"]), "UNKNOWN_KEY")
    fails_with(run.invoke(members, ["add-key", "nobody", "--public-key", public]), "UNKNOWN_MEMBER")
    assert ok(run.invoke(members, ["list"])) == ""  # nothing was half-added


def test_a_key_id_starting_with_a_dash_is_an_argument_not_an_option(run: CliRunner) -> None:
    """Key ids are base64url thumbprints: one in 64 starts with '-'."""
    result = run.invoke(members, ["revoke-key", "-6bQk1xMZbFSnO0tu4wYb0QbNwCG5n"])
    fails_with(result, "UNKNOWN_KEY")
    assert "-6bQk1xMZbFSnO0tu4wYb0QbNwCG5n" in result.output


def test_an_sm2_key_beside_an_ed25519_one_during_a_roll_over(
    run: CliRunner, tmp_path: Path
) -> None:
    """`keys generate --alg sm2` (alias of sm2-sm3), and a member moving from Ed25519 to SM2."""
    out = str(tmp_path / "keys")
    old = ok(run.invoke(keys, ["generate", "--out", out, "--name", "old"])).strip()
    made = run.invoke(keys, ["generate", "--out", out, "--name", "new", "--alg", "sm2"])
    new = ok(made).strip()
    assert "wrote sm2-sm3 " in made.stderr
    assert isinstance(read_private_key(Path(out) / "new.private.pem"), SM2PrivateKey)
    assert key_id(read_public_key(Path(out) / "new.public.pem")) == new
    add = ["add", "window", "--role", "consumer", "--public-key", f"{out}/old.public.pem"]
    ok(run.invoke(members, add))
    assert ok(run.invoke(members, ["add-key", "window", "--public-key", f"{out}/new.public.pem"]))
    listed = ok(run.invoke(members, ["list", "--json"]))
    [entry] = [json.loads(line) for line in listed.splitlines()]
    assert [(k["keyid"], k["alg"], k["status"]) for k in entry["keys"]] == [
        (old, "ed25519", "active"),
        (new, "sm2-sm3", "active"),
    ]


def test_an_sm_only_gateway_takes_no_other_keys(run: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "keys")
    ok(run.invoke(keys, ["generate", "--out", out, "--name", "ed"]))
    ok(run.invoke(keys, ["generate", "--out", out, "--name", "sm", "--alg", "sm2-sm3"]))
    sm_only = {"GOVGATE_GATEWAY_ALGORITHMS": '["sm2", "sm3"]'}
    add = ["add", "window", "--role", "consumer", "--public-key"]
    fails_with(
        run.invoke(members, [*add, f"{out}/ed.public.pem"], env=sm_only), "ALGORITHM_NOT_ALLOWED"
    )
    ok(run.invoke(members, [*add, f"{out}/sm.public.pem"], env=sm_only))
    refused = run.invoke(
        members, ["add-key", "window", "--public-key", f"{out}/ed.public.pem"], env=sm_only
    )
    fails_with(refused, "ALGORITHM_NOT_ALLOWED")
    assert "ed25519 keys are not allowed here (GOVGATE_GATEWAY_ALGORITHMS allows sm2-sm3)" in (
        refused.stderr
    )


def test_members_publish_scopes_and_all_fields_on_purpose(run: CliRunner, tmp_path: Path) -> None:
    """#12.1 and #12.8: a publisher's scopes are registered and listed; `--all-fields` is how
    a grant shows every field (personal ids still masked unless named)."""
    out = str(tmp_path / "keys")
    ok(run.invoke(keys, ["generate", "--out", out, "--name", "dept"]))
    public = str(tmp_path / "keys" / "dept.public.pem")
    ok(run.invoke(members, ["add", "scjg-push", "--role", "publisher", "--public-key", public]))
    scopes = ["--scope", "certificates:YYZZ@scjg-djxt", "--scope", "case:*@scjg-djxt"]
    said = ok(run.invoke(members, ["publish", "scjg-push", *scopes]))
    assert said == "scjg-push may publish certificates:YYZZ@scjg-djxt, case-events:*@scjg-djxt\n"
    fails_with(
        run.invoke(members, ["publish", "scjg-push", "--scope", "certificates:YYZZ"]),
        "INVALID_SCOPE",
    )
    fails_with(run.invoke(members, ["publish", "nobody", *scopes]), "UNKNOWN_MEMBER")
    ok(run.invoke(keys, ["generate", "--out", out, "--name", "win"]))
    public = str(tmp_path / "keys" / "win.public.pem")
    ok(run.invoke(members, ["add", "win", "--role", "consumer", "--public-key", public,
                            "--grant", "certificate:YYZZ:*", "--grant", "material:CL:*:名称",
                            "--all-fields"]))  # fmt: skip
    ok(run.invoke(members, ["grant", "win", "--grant", "case:*:*"]))
    listed = [json.loads(line) for line in ok(run.invoke(members, ["list", "--json"])).splitlines()]
    by_id = {m["member_id"]: m for m in listed}
    assert by_id["scjg-push"]["publishes"] == [
        "case-events:*@scjg-djxt",
        "certificates:YYZZ@scjg-djxt",
    ]
    assert by_id["win"]["grants"] == [
        "case:*:*",
        "certificate:YYZZ:*:*",
        "material:CL:*:名称",
    ]
    ok(run.invoke(members, ["unpublish", "scjg-push", "--scope", "case:*@scjg-djxt"]))
    text = ok(run.invoke(members, ["list"]))
    assert "publishes certificates:YYZZ@scjg-djxt" in text and "case-events:*" not in text
