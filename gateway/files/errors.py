"""Errors of the file store, marked as the log marks its own: retry or not.

`FileStoreUnavailable` is waited out (the object store is down, a timeout); the others say
something about one file: it is not there, its bytes are not what its hash says, it is too big.
"""

from __future__ import annotations

from schemas.errors import GovgateError


class FileStoreError(GovgateError):
    """Base of file store errors; a misconfigured store (no bucket, access denied) too."""

    code = "FILE_STORE_ERROR"


class FileStoreUnavailable(FileStoreError):
    """The store cannot be reached now (object store down, timing out, 5xx). Try again."""

    code = "FILE_STORE_UNAVAILABLE"
    retriable = True


class ContentMissing(FileStoreError):
    """No file with this SHA-256 in the store (never stored, or removed since)."""

    code = "CONTENT_MISSING"


class ContentCorrupted(FileStoreError):
    """The stored bytes do not hash to the SHA-256 they are kept under; set aside, not served."""

    code = "CONTENT_CORRUPTED"


class HashMismatch(FileStoreError):
    """The bytes given to `put` do not hash to the SHA-256 the source recorded for them."""

    code = "FILE_HASH_MISMATCH"


class FileTooLarge(FileStoreError):
    """The bytes given to `put` exceed the configured limit; nothing was stored."""

    code = "FILE_TOO_LARGE"


class InvalidDigest(FileStoreError):
    """Not a SHA-256 in lowercase hex (64 characters)."""

    code = "INVALID_SHA256"
