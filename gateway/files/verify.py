"""Stream a stored content while checking it against its hash, withholding its last chunk.

The digest is known only at the end, so the last chunk is held back until the bytes have
hashed to their name: a reader is never handed a complete copy of bytes that do not match.
On a mismatch the content is set aside (`FileStore.quarantine`), so the next reader is told,
and `ContentCorrupted` ends the stream. At most two chunks are in memory.

The content is read by its address (SHA-256, or SM3 for a file put under `files.hash = "sm3"`);
`also` names more digests of the same bytes that the answer states (the record's SHA-256 beside
its SM3, in `Content-Digest`), each checked as well, so no digest a reader is shown goes
unchecked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

from gateway.crypto.sm3 import HashName, new_hasher
from gateway.files.base import FileStore
from gateway.files.errors import ContentCorrupted

logger = logging.getLogger(__name__)


async def verified_chunks(
    files: FileStore,
    digest: str,
    size: int,
    *,
    alg: HashName = "sha-256",
    also: Mapping[HashName, str] | None = None,
) -> AsyncIterator[bytes]:
    """The content's bytes, checked; `ContentCorrupted` (before the last chunk) if they are
    not `size` bytes hashing to `digest` under `alg` (and to each of `also`)."""
    wanted = {**(also or {}), alg: digest}
    hashers = {name: new_hasher(name) for name in wanted}
    total = 0
    held: bytes | None = None
    async for chunk in files.chunks(digest, alg=alg):
        for hasher in hashers.values():
            hasher.update(chunk)
        total += len(chunk)
        if total > size:
            break
        if held is not None:
            yield held
        held = chunk
    found = {name: hasher.hexdigest() for name, hasher in hashers.items()}
    if found != wanted or total != size:
        bad = [name for name in wanted if found[name] != wanted[name]] or [alg]
        reason = f"{total}+ bytes hashing to " + ", ".join(
            f"{found[name]} ({name})" for name in bad
        )
        reason += f", not {size} bytes hashing to " + ", ".join(
            f"{wanted[name]} ({name})" for name in bad
        )
        logger.error("content %s is corrupted in the %s store: %s", digest, files.backend, reason)
        await files.quarantine(digest, reason, alg)
        raise ContentCorrupted(f"content {digest}: {reason}")
    if held is not None:
        yield held
