"""File-drop source: CSV and XLSX exports a department copies into an inbox folder.

Typical of 人社 social-insurance registration (参保登记) exports: GBK CSVs with Chinese headers
and full-width digits. Each file is read once, identified by the SHA-256 of its content, and
moved to `done/` once the runtime has saved its last offset, or to `failed/` (with a
`<name>.error.txt` saying why) if it cannot be decoded or parsed. A broken file emits nothing:
it is checked whole before its first record goes out, so a corrected re-export never mixes
with half of the broken one.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import fnmatch
import hashlib
import logging
import time
import unicodedata
import zipfile
from collections.abc import AsyncGenerator, Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing, closing
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import charset_normalizer
import openpyxl
import pydantic
from openpyxl.utils.exceptions import InvalidFileException

from connectors.errors import ConnectorError, SourceConfigError, SourceUnavailable
from connectors.sources.base import Offset, OffsetReader, Source, SourceRecord

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_SAMPLE = 1 << 20  # bytes given to charset-normalizer: enough to see the non-ASCII text
_XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xls")  # .xls is refused by openpyxl → failed/
# What openpyxl raises on a file that is not a readable workbook (it does not wrap them).
_XLSX_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, ParseError)
_EMPTY = ("", None)

Rows = Generator[list[Any], None, None]  # a file's header, then its data rows
# GB2312 and GBK are subsets of GB18030 and decode the same bytes identically, but a sample
# that looks like GB2312 or GBK can still hold GB18030-only characters further on (rare
# characters in names, 生僻字, which exporters emit under a "GBK" label).
_GB_FAMILY = frozenset({"gb2312", "gbk", "gb18030"})


class FileDropConfig(pydantic.BaseModel):
    """Where the inbox is and how its files look."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    folder: Path  # inbox; done/ and failed/ are created inside it
    patterns: list[str] = ["*.csv", "*.xlsx"]
    key_columns: list[str] = pydantic.Field(min_length=1)  # e.g. ["业务流水号"]
    encoding: str = "auto"  # or an explicit codec
    delimiter: str = pydantic.Field(",", min_length=1, max_length=1)
    sheet: str | None = None  # XLSX sheet; default the first
    batch_size: int = pydantic.Field(1000, gt=0)
    poll_interval_s: float = pydantic.Field(2.0, ge=0)
    settle_s: float = pydantic.Field(1.0, ge=0)  # unchanged this long before it is read

    @pydantic.field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError as exc:
                raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class BadFile(ConnectorError):
    """A file cannot be read as a table; it goes to `failed/` with its code and reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason, code=code)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Found:
    """A settled file in the inbox, fingerprinted."""

    path: Path
    sha256: str
    is_xlsx: bool
    encoding: str | None  # of a CSV; None when no text encoding fits it (→ failed/)

    @property
    def partition(self) -> str:
        return f"sha256:{self.sha256}"


class FileDropSource(Source):
    """Reads the inbox oldest file first; each file's partition is its content hash.

    The offset of a record is `{"file": <name>, "row": <data rows done>, "done": <bool>}`,
    `done` on the file's last record; `committed()` of a done offset moves the file to `done/`.
    """

    def __init__(self, name: str, config: FileDropConfig, *, backfill: bool = False) -> None:
        super().__init__()
        self.name = name
        self.config = config
        self.backfill = backfill
        self._offsets: OffsetReader | None = None
        self._open: dict[str, Path] = {}  # partition → file being read or awaiting its commit

    async def start(self, offsets: OffsetReader) -> None:
        """Check the inbox, create `done/` and `failed/` in it and keep the saved offsets."""
        folder = self.config.folder
        if not folder.is_dir():
            raise SourceConfigError(f"{self.name}: the inbox {folder} is not a folder")
        for sub in ("done", "failed"):
            (folder / sub).mkdir(exist_ok=True)
        self._offsets = offsets
        self._open.clear()  # a restart reads unfinished files again from the saved offsets

    async def batches(self) -> AsyncGenerator[list[SourceRecord], None]:
        """Batches of the settled files, one file after another; polls when none is left."""
        while not self.stopping.is_set():
            ready, settling = await asyncio.to_thread(self._scan)
            for path in ready:
                async with aclosing(self._file(path)) as file_batches:
                    async for batch in file_batches:
                        yield batch
                        if self.stopping.is_set():
                            return
            if ready:
                continue  # more files may have arrived meanwhile
            if self.backfill and not settling:
                return
            pause = self.config.poll_interval_s
            await self._pause(min(pause, self.config.settle_s) if settling else pause)

    def _scan(self) -> tuple[list[Path], bool]:
        """Settled files not being read yet, oldest first; and whether others are settling.

        Patterns match case-insensitively: Windows exports arrive as `.CSV` as often as `.csv`.
        """
        patterns = [p.lower() for p in self.config.patterns]
        busy = set(self._open.values())
        now = time.time()
        found: list[tuple[int, str, Path]] = []
        settling = False
        for path in self.config.folder.iterdir():
            name = path.name.lower()
            if path in busy or name.startswith(".") or not path.is_file():
                continue
            if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # taken away since the listing
            if now - stat.st_mtime < self.config.settle_s:
                settling = True  # still being copied, perhaps
                continue
            found.append((stat.st_mtime_ns, path.name, path))
        return [path for _, _, path in sorted(found)], settling

    async def _file(self, path: Path) -> AsyncGenerator[list[SourceRecord], None]:
        """The batches of one file: none if it was read before, is broken or holds no rows."""
        try:
            plan = await self._plan(path)
        except FileNotFoundError:
            return  # taken away since the scan
        except OSError as exc:
            raise SourceUnavailable(f"{self.name}: cannot read {path.name}: {exc}") from exc
        if plan is None:
            return
        found, skip, total = plan
        self._open[found.partition] = path
        async with aclosing(self._emit(found, skip, total)) as batches:
            async for batch in batches:
                yield batch

    async def _plan(self, path: Path) -> tuple[_Found, int, int] | None:
        """Fingerprint and check a file: what to emit (the file, rows to skip, rows in all),
        or None after moving it to `done/` or `failed/` because there is nothing to emit."""
        found = await asyncio.to_thread(_fingerprint, path, self.config.encoding)
        if found.partition in self._open:  # the same content under another name
            log.info("%s: %s repeats %s", self.name, path.name, self._open[found.partition])
            await asyncio.to_thread(_move, path, "done")  # the original still holds the data
            return None
        saved = await self._saved(found.partition)
        if saved.get("done"):  # dropped again, or the process stopped before the move
            await asyncio.to_thread(_move, path, "done")
            return None
        try:
            total = await asyncio.to_thread(_count_rows, found, self.config)
        except BadFile as exc:
            log.warning("%s: %s goes to failed/: %s", self.name, path.name, exc)
            await asyncio.to_thread(_fail, path, exc)
            return None
        skip = int(saved.get("row", 0))
        if skip >= total:  # header only (or nothing left): no record to emit
            await asyncio.to_thread(_move, path, "done")
            return None
        return found, skip, total

    async def _saved(self, partition: str) -> Offset:
        if self._offsets is None:
            raise RuntimeError(f"{self.name}: start() was not called")
        return await self._offsets.get(partition) or {}

    async def _emit(
        self, found: _Found, skip: int, total: int
    ) -> AsyncGenerator[list[SourceRecord], None]:
        """The rows after `skip`, a batch at a time; forgets the file unless all were read."""
        rows = _RowStream(_read_rows(found, self.config))
        row = skip
        try:
            header: list[str] = await rows.step(next)
            await rows.step(_drain, skip)
            while chunk := await rows.step(_take, self.config.batch_size):
                records = []
                for values in chunk:
                    row += 1
                    records.append(self._record(found, header, values, row, total))
                yield records
        except BadFile as exc:  # checked before, so the file changed under us
            raise SourceUnavailable(f"{self.name}: {found.path.name} changed: {exc}") from exc
        except OSError as exc:
            raise SourceUnavailable(f"{self.name}: cannot read {found.path.name}: {exc}") from exc
        finally:
            await rows.close()
            if row < total:
                self._open.pop(found.partition, None)

    def _record(
        self, found: _Found, header: list[str], values: list[Any], row: int, total: int
    ) -> SourceRecord:
        data = dict(zip(header, values, strict=True))
        key = "|".join("" if data[c] is None else str(data[c]) for c in self.config.key_columns)
        return SourceRecord(
            partition=found.partition,
            offset={"file": found.path.name, "row": row, "done": row == total},
            table=found.path.name,
            key=key,
            version=f"sha256:{found.sha256[:12]}:{row}",
            data=data,
        )

    async def committed(self, partition: str, offset: Offset) -> None:
        """Move a file to `done/` once the offset of its last record is saved."""
        if offset.get("done") and (path := self._open.pop(partition, None)):
            await asyncio.to_thread(_move, path, "done")

    async def _pause(self, seconds: float) -> None:
        """Sleep, waking early when `stop()` is called."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def close(self) -> None:
        """Nothing to release: each file is closed when its batches end."""


class _RowStream:
    """A blocking row iterator stepped from the event loop in a thread of its own.

    One worker thread per file, not `asyncio.to_thread`: if a step is cancelled its thread
    runs on, and only a single worker guarantees that closing the iterator (and its file)
    waits for that step instead of racing it ("generator already executing").
    """

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="file-drop")

    async def step(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, self._rows, *args)

    async def close(self) -> None:
        closing_ = asyncio.get_running_loop().run_in_executor(self._pool, self._rows.close)
        self._pool.shutdown(wait=False)
        await asyncio.shield(closing_)


# Everything below blocks: it runs in a worker thread.


def _fingerprint(path: Path, encoding: str) -> _Found:
    """Hash the file in one streaming pass; for CSV, check meanwhile if it is strict UTF-8."""
    is_xlsx = path.suffix.lower() in _XLSX_SUFFIXES
    digest = hashlib.sha256()
    utf8: codecs.IncrementalDecoder | None = None
    if not is_xlsx:
        utf8 = codecs.getincrementaldecoder("utf-8-sig")("strict")
    sample = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            if len(sample) < _SAMPLE:
                sample += chunk[: _SAMPLE - len(sample)]
            utf8 = _still_utf8(utf8, chunk)
    utf8 = _still_utf8(utf8, b"", final=True)  # a character cut short at the end
    chosen = None if is_xlsx else _choose_encoding(encoding, utf8 is not None, sample)
    return _Found(path, digest.hexdigest(), is_xlsx, chosen)


def _still_utf8(
    decoder: codecs.IncrementalDecoder | None, chunk: bytes, final: bool = False
) -> codecs.IncrementalDecoder | None:
    if decoder is None:
        return None
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return None
    return decoder


def _choose_encoding(configured: str, is_utf8: bool, sample: bytes) -> str | None:
    """The configured codec, or for "auto": UTF-8 (BOM or not) if the whole file is strict
    UTF-8, else charset-normalizer's guess from a sample, the GB family read as GB18030."""
    if configured != "auto":
        # An explicit UTF-8 still tolerates a BOM, which would otherwise stick to the first
        # column's name; utf-8-sig decodes everything else the same.
        return "utf-8-sig" if codecs.lookup(configured).name == "utf-8" else configured
    if is_utf8:
        return "utf-8-sig"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    return "gb18030" if name in _GB_FAMILY else name


def _count_rows(found: _Found, config: FileDropConfig) -> int:
    """Read the whole file once to prove it decodes and parses; its number of data rows."""
    with closing(_read_rows(found, config)) as rows:
        next(rows)
        return sum(1 for _ in rows)


def _read_rows(found: _Found, config: FileDropConfig) -> Rows:
    """The header (normalized names, key columns checked), then the data rows padded to it.

    Rows with no value are skipped (blank lines, `,,,` rows Excel leaves at the end); empty
    cells beyond the header are dropped, but a value beyond it fails the file: it has no
    column name to go under.
    """
    if not found.is_xlsx and found.encoding is None:
        raise BadFile("UNKNOWN_ENCODING", "no text encoding fits the file")
    raw = _xlsx_rows(found.path, config) if found.is_xlsx else _csv_rows(found, config)
    with closing(raw):
        first = next(raw, None)
        header = [] if first is None else _header(first, config.key_columns)
        yield header
        for number, cells in enumerate(raw, start=2):
            values = [_clean(v) for v in cells]
            if all(v in _EMPTY for v in values):
                continue
            if any(v not in _EMPTY for v in values[len(header) :]):
                raise BadFile(
                    "TOO_MANY_CELLS",
                    f"row {number} has values in {len(values)} cells, the header has "
                    f"{len(header)} names",
                )
            yield values[: len(header)] + [None] * (len(header) - len(values))


def _header(cells: list[Any], key_columns: list[str]) -> list[str]:
    """Column names, normalized like values; a file with none at all is empty, not broken."""
    names = [_clean("" if c is None else str(c)) for c in cells]
    while names and names[-1] == "":
        names.pop()
    if not names:
        return []
    if "" in names or len(set(names)) != len(names):
        raise BadFile("BAD_HEADER", f"empty or repeated column names in {_shown(names)}")
    missing = [c for c in key_columns if c not in names]
    if missing:
        raise BadFile("MISSING_KEY_COLUMN", f"no column {missing} in the header {_shown(names)}")
    return names


def _shown(names: list[str], most: int = 12) -> str:
    """Column names for a message, cut short: a binary file can make a huge "header"."""
    cut = [n if len(n) <= 40 else n[:40] + "…" for n in names[:most]]
    return str(cut) if len(names) <= most else f"{cut[:-1]} and {len(names) - most + 1} more"


def _csv_rows(found: _Found, config: FileDropConfig) -> Rows:
    """CSV cells, decoded strictly: a bad byte fails the file rather than becoming U+FFFD."""
    try:
        with found.path.open(encoding=found.encoding, newline="", errors="strict") as f:
            yield from csv.reader(f, delimiter=config.delimiter, strict=True)
    except UnicodeDecodeError as exc:
        raise BadFile("DECODE_ERROR", f"not {found.encoding}: {exc}") from exc
    except csv.Error as exc:
        raise BadFile("CSV_PARSE", str(exc)) from exc


def _xlsx_rows(path: Path, config: FileDropConfig) -> Rows:
    """Sheet cells as Python values (dates as datetime, numbers as numbers), streamed."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise BadFile("XLSX_UNREADABLE", f"{type(exc).__name__}: {exc}") from exc
    try:
        if config.sheet is not None and config.sheet not in book.sheetnames:
            raise BadFile("NO_SUCH_SHEET", f"no sheet {config.sheet!r} in {book.sheetnames}")
        sheet = book[config.sheet] if config.sheet else book.worksheets[0]
        for cells in sheet.iter_rows(values_only=True):
            yield list(cells)
    except _XLSX_ERRORS as exc:
        raise BadFile("XLSX_UNREADABLE", f"{type(exc).__name__}: {exc}") from exc
    finally:
        book.close()


def _clean(value: Any) -> Any:
    """Full-width letters, digits and spaces made ASCII (NFKC), and text trimmed."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


def _take(rows: Rows, n: int) -> list[list[Any]]:
    return list(islice(rows, n))


def _drain(rows: Rows, n: int) -> None:
    for _ in islice(rows, n):
        pass


def _move(path: Path, to: str) -> Path:
    """Move a file into `done/` or `failed/` beside it, adding `.1`, `.2`… on a name clash."""
    folder = path.parent / to
    target = folder / path.name
    n = 0
    while target.exists():
        n += 1
        target = folder / f"{path.stem}.{n}{path.suffix}"
    return path.rename(target)


def _fail(path: Path, error: BadFile) -> None:
    """Move a file to `failed/`, with `<name>.error.txt` beside it saying why."""
    moved = _move(path, "failed")
    text = f"code: {error.code}\nreason: {error.reason}\nfile: {path.name}\n"
    (moved.parent / f"{moved.name}.error.txt").write_text(text, encoding="utf-8")
