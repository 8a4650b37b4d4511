"""The file store on S3-compatible object storage (MinIO, Ceph RGW, SeaweedFS, a cloud's).

Client: aiobotocore — botocore's S3 model and request signing (SigV4) on asyncio, so a put or
a download never blocks the event loop or needs a thread per chunk, and bodies are streamed.
The client is configured for servers other than AWS: path-style addressing by default, and
checksums only where the S3 API requires them (botocore's newer default adds CRC trailers that
many S3-compatible servers refuse).

A put uploads to `incoming/<random>` while hashing (one request for a small file, a multipart
upload of `s3_part_bytes` parts otherwise: the most held in memory), then copies it server-side
to `sha256/ab/<sha256>` (`sm3/ab/<sm3>` with `files.hash = "sm3"`) unless that exists already,
and deletes the temporary object. Quarantined contents move to `quarantine/<sha256>`
(`quarantine/sm3-<sm3>`) with the reason in the object's metadata.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from aiohttp import ClientError as AiohttpError
from botocore.exceptions import BotoCoreError, ClientError

from gateway.crypto.sm3 import HashName
from gateway.files.base import (
    READ_CHUNK,
    FileStore,
    Hashing,
    StoredFile,
    aside_name,
    check_digest,
    key_of,
)
from gateway.files.errors import ContentMissing, FileStoreError, FileStoreUnavailable
from gateway.settings import FilesSettings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

logger = logging.getLogger(__name__)
_MISSING = {"404", "NoSuchKey", "NotFound"}
_RETRIABLE = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """Client and connection errors as the file store's own: retriable or not, or missing."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _MISSING:
            raise ContentMissing(f"{what}: not found") from exc
        if code in _RETRIABLE or status >= 500:
            raise FileStoreUnavailable(f"{what}: {code} {error.get('Message', '')}") from exc
        raise FileStoreError(f"{what}: {code} {error.get('Message', '')}") from exc
    except (BotoCoreError, AiohttpError, OSError, TimeoutError) as exc:
        raise FileStoreUnavailable(f"{what}: {exc!r}") from exc


class S3FileStore(FileStore):
    backend = "s3"

    def __init__(self, settings: FilesSettings) -> None:
        if settings.s3_endpoint is None:
            raise ValueError("files.s3_endpoint is not set")
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        self.hash = settings.hash
        self._stack = contextlib.AsyncExitStack()
        self._client: S3Client | None = None

    async def start(self) -> None:
        """Open the client and check the bucket (creating it if configured to)."""
        s = self.settings
        config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": s.s3_addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=min(s.timeout_s, 10),
            read_timeout=s.timeout_s,
            retries={"max_attempts": 2, "mode": "standard"},  # the callers wait out the rest
        )
        creator = get_session().create_client(
            "s3",
            endpoint_url=s.s3_endpoint,
            region_name=s.s3_region,
            aws_access_key_id=_secret(s.s3_access_key),
            aws_secret_access_key=_secret(s.s3_secret_key),
            config=config,
        )
        self._client = await self._stack.enter_async_context(creator)
        try:
            await self._bucket_ready()
        except FileStoreUnavailable as exc:  # each put and read waits for it, or says so
            logger.warning("the S3 file store does not answer yet: %s", exc.detail)
        except BaseException:
            await self.close()
            raise

    async def _bucket_ready(self) -> None:
        try:
            with _translated(f"bucket {self.bucket}"):
                await self.client.head_bucket(Bucket=self.bucket)
        except ContentMissing:
            if not self.settings.s3_create_bucket:
                raise FileStoreError(
                    f"no bucket {self.bucket!r} at {self.settings.s3_endpoint}; create it, or "
                    "set files.s3_create_bucket"
                ) from None
            with _translated(f"create bucket {self.bucket}"):
                await self.client.create_bucket(Bucket=self.bucket)

    @property
    def client(self) -> S3Client:
        if self._client is None:
            raise FileStoreUnavailable("the S3 file store is not started (or closed)")
        return self._client

    def _key(self, digest: str, alg: HashName = "sha-256") -> str:
        return self.prefix + key_of(check_digest(digest, alg), alg)

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        expected_sha256: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredFile:
        hashing = Hashing(expected_sha256, max_bytes, self.hash)
        temp = f"{self.prefix}incoming/{uuid.uuid4().hex}"
        try:
            await self._upload(temp, chunks, hashing)
            hashing.finish()
            address = hashing.address
            created = not await self.exists(address, self.hash)
            if created:
                with _translated(f"copy {temp}"):
                    await self.client.copy_object(
                        Bucket=self.bucket,
                        Key=self._key(address, self.hash),
                        CopySource={"Bucket": self.bucket, "Key": temp},
                    )
        finally:
            with contextlib.suppress(FileStoreError):
                with _translated(f"delete {temp}"):
                    await self.client.delete_object(Bucket=self.bucket, Key=temp)
        return hashing.stored(self.uri(address, self.hash), created)

    async def _upload(self, key: str, chunks: AsyncIterable[bytes], hashing: Hashing) -> None:
        """Upload to `key`: one PUT if all fits in one part, else a multipart upload."""
        part_bytes = self.settings.s3_part_bytes
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                hashing.update(chunk)
                buffer += chunk
                while len(buffer) >= part_bytes:
                    if upload_id is None:
                        with _translated(f"start upload {key}"):
                            started = await self.client.create_multipart_upload(
                                Bucket=self.bucket, Key=key
                            )
                        upload_id = started["UploadId"]
                    part = bytes(buffer[:part_bytes])
                    del buffer[:part_bytes]
                    parts.append(await self._part(key, upload_id, len(parts) + 1, part))
            if upload_id is None:
                with _translated(f"put {key}"):
                    await self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
                return
            if buffer or not parts:
                parts.append(await self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
            with _translated(f"complete upload {key}"):
                await self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                )
            upload_id = None
        finally:
            if upload_id is not None:
                with contextlib.suppress(FileStoreError), _translated(f"abort upload {key}"):
                    await self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )

    async def _part(self, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        with _translated(f"upload part {number} of {key}"):
            sent = await self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        return {"ETag": sent["ETag"], "PartNumber": number}

    async def size(self, digest: str, alg: HashName = "sha-256") -> int:
        key = self._key(digest, alg)
        with _translated(f"content {digest}"):
            head = await self.client.head_object(Bucket=self.bucket, Key=key)
        return int(head["ContentLength"])

    async def chunks(
        self, digest: str, start: int = 0, end: int | None = None, *, alg: HashName = "sha-256"
    ) -> AsyncIterator[bytes]:
        key = self._key(digest, alg)
        wanted = ""  # all of it
        if start or end is not None:
            if end is not None and end <= start:
                return
            wanted = f"bytes={start}-{'' if end is None else end - 1}"
        with _translated(f"content {digest}"):
            if wanted:
                answer = await self.client.get_object(Bucket=self.bucket, Key=key, Range=wanted)
            else:
                answer = await self.client.get_object(Bucket=self.bucket, Key=key)
        body = answer["Body"]
        try:
            while True:
                with _translated(f"content {digest}"):
                    chunk = await body.read(READ_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def quarantine(self, digest: str, reason: str, alg: HashName = "sha-256") -> None:
        key = self._key(digest, alg)
        aside = f"{self.prefix}quarantine/{aside_name(digest, alg)}"
        try:
            with _translated(f"quarantine {digest}"):
                await self.client.copy_object(
                    Bucket=self.bucket,
                    Key=aside,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    Metadata={"reason": quote(reason[:1500])},
                    MetadataDirective="REPLACE",
                )
        except ContentMissing:  # another reader set it aside first
            return
        with _translated(f"quarantine {digest}"):
            await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def quarantined(self, digest: str, alg: HashName = "sha-256") -> str | None:
        aside = f"{self.prefix}quarantine/{aside_name(check_digest(digest, alg), alg)}"
        try:
            with _translated(f"quarantine {digest}"):
                head = await self.client.head_object(Bucket=self.bucket, Key=aside)
        except ContentMissing:
            return None
        return unquote(head.get("Metadata", {}).get("reason", "set aside"))

    def uri(self, digest: str, alg: HashName = "sha-256") -> str:
        return f"s3://{self.bucket}/{self._key(digest, alg)}"

    async def ping(self) -> None:
        with _translated(f"bucket {self.bucket}"):
            await self.client.head_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        self._client = None
        await self._stack.aclose()


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())
