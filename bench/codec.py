"""Codec throughput: encode (with CloudEvents headers) and decode canonical case events.

Usage: python bench/codec.py [N]   (default 100,000 records)
Prints human-readable lines, then one JSON line with the figures.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.codec import EventCodec  # noqa: E402
from tests.samples import case_event  # noqa: E402


def main(n: int) -> dict[str, float]:
    codec = EventCodec()
    records = [case_event(case_no=f"SL330802{i:012d}", version=str(i)) for i in range(n)]

    started = time.perf_counter()
    events = [codec.encode("CaseEvent", r) for r in records]
    encode_s = time.perf_counter() - started

    started = time.perf_counter()
    for e in events:
        codec.decode(e.value)
    decode_s = time.perf_counter() - started

    figures = {
        "records": n,
        "encode_per_s": round(n / encode_s),
        "decode_per_s": round(n / decode_s),
        "value_bytes": len(events[0].value),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(f"encode (value + CloudEvents headers): {figures['encode_per_s']:,} records/s")
    print(f"decode (fingerprint lookup + Avro):   {figures['decode_per_s']:,} records/s")
    print(f"value size: {figures['value_bytes']} bytes")
    return figures


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
