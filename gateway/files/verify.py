"""Stream a stored content while checking it against its SHA-256, withholding its last chunk.

The digest is known only at the end, so the last chunk is held back until the bytes have
hashed to their name: a reader is never handed a complete copy of bytes that do not match.
On a mismatch the content is set aside (`FileStore.quarantine`), so the next reader is told,
and `ContentCorrupted` ends the stream. At most two chunks are in memory.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator

from gateway.files.base import FileStore
from gateway.files.errors import ContentCorrupted

logger = logging.getLogger(__name__)


async def verified_chunks(files: FileStore, sha256: str, size: int) -> AsyncIterator[bytes]:
    """The content's bytes, checked; `ContentCorrupted` (before the last chunk) if they are
    not `size` bytes hashing to `sha256`."""
    digest = hashlib.sha256()
    total = 0
    held: bytes | None = None
    async for chunk in files.chunks(sha256):
        digest.update(chunk)
        total += len(chunk)
        if total > size:
            break
        if held is not None:
            yield held
        held = chunk
    found = digest.hexdigest()
    if found != sha256 or total != size:
        reason = f"{total}+ bytes hashing to {found}, not {size} bytes hashing to {sha256}"
        logger.error("content %s is corrupted in the %s store: %s", sha256, files.backend, reason)
        await files.quarantine(sha256, reason)
        raise ContentCorrupted(f"content {sha256}: {reason}")
    if held is not None:
        yield held
