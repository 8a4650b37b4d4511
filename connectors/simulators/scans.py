"""Small but real documents for the simulated departments: scanned pages (JPEG) and PDFs.

Departments keep applicants' materials as scans and PDFs; the simulators produce the same
kinds of files, small (a few KB), valid for any viewer, and deterministic: the same document
(one company's 营业执照 scan, say) gives the same bytes every time it is produced, so a file
store keeps it once however many cases it comes with.

`jpeg` is a minimal baseline JPEG encoder (ITU-T T.81, one grey component, the standard
tables of its Annex K) drawing a page of "text lines" and a round stamp, seeded by the
document; `pdf` writes a one-page PDF 1.4 with Helvetica text and the Chinese title in the
document information (UTF-16). No imaging library is needed.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator

__all__ = ["jpeg", "pdf"]

_QUANT = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALS = tuple(range(12))
_AC_BITS = (0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D)
_AC_VALS = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a43444546474849"
    "4a535455565758595a636465666768696a737475767778797a83848586878889"
    "8a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5"
    "c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9fa"
)
_ZIGZAG = sorted(
    ((r, c) for r in range(8) for c in range(8)),
    key=lambda rc: (rc[0] + rc[1], rc[0] if (rc[0] + rc[1]) % 2 else rc[1]),
)
_COS = [[math.cos((2 * x + 1) * u * math.pi / 16) for x in range(8)] for u in range(8)]
_SCALE = [math.sqrt(0.5) if u == 0 else 1.0 for u in range(8)]


def _codes(bits: tuple[int, ...], values: tuple[int, ...] | bytes) -> dict[int, tuple[int, int]]:
    """Huffman codes (code, length) per symbol from a table's counts per length (Annex C)."""
    table: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            table[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return table


_DC = _codes(_DC_BITS, _DC_VALS)
_AC = _codes(_AC_BITS, _AC_VALS)


class _Bits:
    """Entropy-coded bytes: bits packed most significant first, 0xFF followed by 0x00."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        self.acc = (self.acc << length) | (value & ((1 << length) - 1))
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)
        self.acc &= (1 << self.n) - 1

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with one bits
        return bytes(self.out)


def _dct(block: list[list[float]]) -> list[list[float]]:
    """The 8×8 forward DCT, separable: rows, then columns."""
    rows = [
        [_SCALE[u] / 2 * sum(r[x] * _COS[u][x] for x in range(8)) for u in range(8)] for r in block
    ]
    return [
        [_SCALE[v] / 2 * sum(rows[y][u] * _COS[v][y] for y in range(8)) for u in range(8)]
        for v in range(8)
    ]


def _magnitude(value: int) -> tuple[int, int]:
    """(category, bits) of a coefficient: its bit length, and ones' complement if negative."""
    size = abs(value).bit_length()
    return size, value if value >= 0 else value + (1 << size) - 1


def _encode_block(block: list[list[float]], previous_dc: int, bits: _Bits) -> int:
    coefficients = _dct(block)
    zz = [round(coefficients[r][c] / _QUANT[r][c]) for r, c in _ZIGZAG]
    size, value = _magnitude(zz[0] - previous_dc)
    bits.put(*_DC[size])
    if size:
        bits.put(value, size)
    run = 0
    for coefficient in zz[1:]:
        if coefficient == 0:
            run += 1
            continue
        while run > 15:
            bits.put(*_AC[0xF0])
            run -= 16
        size, value = _magnitude(coefficient)
        bits.put(*_AC[(run << 4) | size])
        bits.put(value, size)
        run = 0
    if run:
        bits.put(*_AC[0x00])
    return zz[0]


def _page(seed: str, width: int, height: int) -> list[list[int]]:
    """A grey page: a title bar, lines of "text", and a round stamp at the bottom right."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    pixels = [[rng.randint(228, 240) for _ in range(width)] for _ in range(height)]
    y = 6
    pixels_title = (width // 4, width - width // 4)
    for x in range(*pixels_title):
        for dy in range(3):
            pixels[y + dy][x] = 40
    y += 8
    while y < height - 16:
        end = rng.randint(width // 2, width - 6)
        for x in range(5, end):
            if rng.random() < 0.8:
                pixels[y][x] = rng.randint(30, 90)
        y += rng.choice((3, 4, 5))
    cx, cy, radius = width - 14, height - 12, 8
    for angle in range(0, 360, 4):
        px = cx + round(radius * math.cos(math.radians(angle)))
        py = cy + round(radius * math.sin(math.radians(angle)))
        if 0 <= px < width and 0 <= py < height:
            pixels[py][px] = 70
    return pixels


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def jpeg(seed: str, note: str = "", width: int = 64, height: int = 88) -> bytes:
    """A scanned page as a baseline greyscale JPEG; the same `seed` gives the same bytes.

    `note` goes in a comment segment (COM), as scanners write their own name there.
    """
    if width % 8 or height % 8:
        raise ValueError("width and height must be multiples of 8")
    pixels = _page(seed, width, height)
    bits = _Bits()
    dc = 0
    for by in range(0, height, 8):
        for bx in range(0, width, 8):
            block = [[pixels[by + y][bx + x] - 128.0 for x in range(8)] for y in range(8)]
            dc = _encode_block(block, dc, bits)
    quant = bytes(_QUANT[r][c] for r, c in _ZIGZAG)
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x01\x00\xc8\x00\xc8\x00\x00"),  # 200 dpi
            _segment(0xFE, note.encode("utf-8")[:60000]) if note else b"",
            _segment(0xDB, b"\x00" + quant),
            _segment(
                0xC0,
                b"\x08"
                + height.to_bytes(2, "big")
                + width.to_bytes(2, "big")
                + b"\x01\x01\x11\x00",
            ),
            _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALS)),
            _segment(0xC4, b"\x10" + bytes(_AC_BITS) + _AC_VALS),
            _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            bits.flush(),
            b"\xff\xd9",
        )
    )


def _pdf_text(text: str) -> str:
    """A PDF literal string of ASCII text (others become '?': Helvetica has no CJK glyphs)."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return "(" + clean.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _objects(title: str, lines: list[str]) -> Iterator[bytes]:
    text = ["BT", "/F1 16 Tf", "72 770 Td", f"{_pdf_text(lines[0] if lines else '')} Tj"]
    text += ["/F1 10 Tf", "0 -24 Td"]
    for line in lines[1:]:
        text += [f"{_pdf_text(line)} Tj", "0 -14 Td"]
    stream = "\n".join([*text, "ET"]).encode("ascii")
    title_hex = ("\ufeff" + title).encode("utf-16-be").hex().upper()
    yield b"<< /Type /Catalog /Pages 2 0 R >>"
    yield b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    yield (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
    )
    yield b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    yield b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    yield f"<< /Title <{title_hex}> /Producer (govgate simulator) >>".encode("ascii")


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF: `lines` as text (the first large), `title` (any script) as its title."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(_objects(title, lines), start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(offsets) + 1, len(offsets))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
