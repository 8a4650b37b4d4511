"""`govgate log tail` prints decoded events from the configured log, masking personal ids."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.log import OutRecord, open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.conftest import Broker
from tests.samples import case_event, dead_letter, material

codec = EventCodec()


async def publish(settings: Settings, stream: str, records: list[OutRecord]) -> None:
    async with open_database(settings) as engine, open_log(settings, engine) as log:
        await log.append(stream, records)


def run_tail(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["log", "tail", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_tail_on_the_sql_log_decodes_and_masks(data_dir: Path) -> None:
    env = {"GOVGATE_DATA_DIR": str(data_dir)}
    events = [case_event(case_no=f"SL-{i}", version=str(i)) for i in range(15)]
    garbage = OutRecord(b"SL-x", b"not avro at all")
    asyncio.run(
        publish(
            Settings(data_dir=data_dir),
            "case-events",
            [codec.encode("CaseEvent", e) for e in events] + [garbage],
        )
    )

    lines = run_tail(env, "case-events", "-n", "3")
    assert [line["offset"] for line in lines] == [13, 14, 15]
    assert lines[0]["type"] == "CaseEvent"
    assert lines[0]["value"]["case_no"] == "SL-13"  # type: ignore[index]
    assert lines[2]["error"]["code"] == "BAD_MAGIC"  # type: ignore[index]

    assert len(run_tail(env, "case-events", "--from-beginning")) == 16


def test_personal_ids_are_masked_unless_asked(data_dir: Path) -> None:
    env = {"GOVGATE_DATA_DIR": str(data_dir)}
    record = material()
    asyncio.run(
        publish(Settings(data_dir=data_dir), "materials", [codec.encode("Material", record)])
    )
    full = record["holder"]["id_number"]

    [masked] = run_tail(env, "materials")
    assert masked["value"]["holder"]["id_number"] == full[:6] + "********" + full[-4:]  # type: ignore[index]
    [unmasked] = run_tail(env, "materials", "--unmasked")
    assert unmasked["value"]["holder"]["id_number"] == full  # type: ignore[index]


def test_ids_inside_dead_letters_raw_records_are_masked_unless_asked(data_dir: Path) -> None:
    """Issue #12, finding 10: `log tail dead-letters` printed the raw source record whole."""
    env = {"GOVGATE_DATA_DIR": str(data_dir)}
    record = dead_letter()
    wide = "".join(chr(ord(c) + 0xFEE0) for c in "13010519851212002X")
    record["raw"] = (
        '{"SLBH": "SL330802202611230001", "SQRZJHM": "330802198506150011", '
        f'"LXRZJHM": "{wide}", "OLD": "330802850615001", "TYSHXYDM": "91330802MA2D4K7X09"}}'
    )
    record["reason"] = "SQRZJHM 330802198506150011 does not pass"
    asyncio.run(
        publish(Settings(data_dir=data_dir), "dead-letters", [codec.encode("DeadLetter", record)])
    )
    [masked] = run_tail(env, "dead-letters")
    shown = json.dumps(masked, ensure_ascii=False)
    for full in ("330802198506150011", wide, "330802850615001"):
        assert full not in shown
    raw = masked["value"]["raw"]  # type: ignore[index]
    assert '"SQRZJHM": "330802********0011"' in raw
    assert "SL330802202611230001" in raw and "91330802MA2D4K7X09" in raw  # not personal ids
    [unmasked] = run_tail(env, "dead-letters", "--unmasked")
    assert unmasked["value"]["raw"] == record["raw"]  # type: ignore[index]


@pytest.mark.kafka
def test_events_round_trip_through_kafka(kafka_broker: Broker, data_dir: Path) -> None:
    env = {
        "GOVGATE_DATA_DIR": str(data_dir),
        "GOVGATE_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "GOVGATE_KAFKA_TOPIC_PREFIX": "tailtest",
        "GOVGATE_KAFKA_PARTITIONS": "2",
    }
    events = [case_event(case_no=f"SL-{i}", version=str(i)) for i in range(6)]
    kafka = Settings.model_validate(
        {
            "data_dir": data_dir,
            "kafka": {
                "bootstrap": kafka_broker.bootstrap,
                "topic_prefix": "tailtest",
                "partitions": 2,
            },
        }
    )
    asyncio.run(publish(kafka, "case-events", [codec.encode("CaseEvent", e) for e in events]))

    lines = run_tail(env, "case-events", "--from-beginning")
    assert sorted(line["value"]["case_no"] for line in lines) == [f"SL-{i}" for i in range(6)]  # type: ignore[index]
    assert {line["headers"]["ce_type"] for line in lines} == {"cn.govgate.CaseEvent.v1"}  # type: ignore[index]
