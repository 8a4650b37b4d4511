"""The file drop stores identifiers as they passed the check: upper-case check character,
half-width digits (issue #12, finding 12). Before, a 人社 CSV row with `…103x` was checked as
`…103X` and logged as `…103x`, so a lookup by the standard id missed it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connectors.mapping.loader import load_connector_spec
from connectors.runtime.convert import BatchConverter
from connectors.simulators.rs import CERTIFICATE_HEADER
from connectors.sources.files import FileDropConfig, FileDropSource
from schemas.codec import EventCodec
from schemas.validators import make_resident_id
from tests.connectors.sources.test_files import Offsets, drop, run

PROFILE = Path(__file__).parents[3] / "connectors" / "profiles" / "rs-jfzm.yaml"
HEADER = ",".join(CERTIFICATE_HEADER)


def _ids_ending_in_x() -> list[str]:
    found = []
    for seq in range(1000):
        number = make_resident_id("330802", date(1990, 3, 1), seq)
        if number.endswith("X"):
            found.append(number)
        if len(found) == 2:
            return found
    raise AssertionError("no id with an X check character")


async def test_a_lowercase_or_full_width_id_is_logged_in_its_standard_form(tmp_path: Path) -> None:
    inbox = tmp_path / "drop"
    inbox.mkdir()
    lower, wide = _ids_ending_in_x()
    wide_text = "".join(chr(ord(c) + 0xFEE0) for c in wide[:-1]) + "ｘ"
    rows = [
        f"JF0001,张三,{lower[:-1]}x,养老,202401,202410,10,20261123,柯城社保,330802,20271123",
        f"JF0002,李四,{wide_text},养老,202401,202410,10,20261123,柯城社保,３３０８０２,20271123",
    ]
    drop(inbox, "jfzm_20261123_001.csv", "\n".join([HEADER, *rows]).encode("gbk"))
    spec = load_connector_spec(PROFILE, {"GOVGATE_RS_DROP_DIR": str(inbox)})
    source = FileDropSource(
        "rs-jfzm",
        FileDropConfig(folder=inbox, key_columns=["证明编号"], settle_s=0.1, poll_interval_s=0.05),
        backfill=True,
    )
    records = await run(source, Offsets())
    good, dead = BatchConverter(spec).convert(records)
    assert dead == []
    codec = EventCodec()
    logged = [codec.decode(event.value).record for event in good]
    assert [r["holder"]["id_number"] for r in logged] == [lower, wide]
    assert [r["region_code"] for r in logged] == ["330802", "330802"]
