"""The client a window system (窗口系统) uses to call the gateway: signs, verifies, and raises.

Every request is signed with the member's own key (RFC 9421, `gateway.signatures`); every
response, refusals included, must carry the gateway's signature bound to that request, checked
against the keys the gateway publishes at `/.well-known/govgate-keys` (fetched once, fetched
again once when a response names a key id not yet known). A response that does not verify
raises `ResponseNotVerified` and its content is never handed back. A refusal raises the
`GatewayRefused` subclass of its family, carrying the gateway's stable `code`.

A window system integrates in a few lines::

    from gateway.client import GatewayClient, NotAuthorized
    from gateway.members.keys import read_private_key

    key = read_private_key(Path("keys/window.private.pem"))
    async with GatewayClient(GATEWAY_URL, member_id="window", private_key=key) as gw:
        answer = await gw.certificates("91330802MA2D4K7X0X", "YYZZ", purpose=ITEM_CODE)
        for item in answer.data["items"]:
            show(item["record"])
        archive(answer.proof())  # the signed request and response, verifiable later

With an SM2 key (`govgate keys generate --alg sm2`) the client signs `sm2-sm3` and hashes in
SM3: request bodies carry `Content-Digest: sm3=…`, every request says `Want-Content-Digest:
sm3=10`, and a response whose digest is not SM3 is not accepted (`ResponseNotVerified`). The
gateway's key may be SM2 too; the client verifies whatever the gateway publishes.

The URL is signed as sent: Chinese and other non-ASCII characters in paths and queries are
percent-encoded (UTF-8) before signing, as `gateway.signatures.encode_url` requires.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from gateway.crypto.sm3 import HashName, new_hasher
from gateway.members.errors import MembersError
from gateway.members.keys import PrivateKey, PublicKey, algorithm_of, key_id, keys_from_jwks
from gateway.signatures import VerifiedResponse, encode_url, sign_request, verify_response
from gateway.signatures.deliveries import NonceCheck, VerifiedDelivery, verify_delivery
from gateway.signatures.digests import DigestAlgorithm
from gateway.signatures.errors import KeyUnknown, SignatureError
from schemas.codec import to_jsonable
from schemas.errors import GovgateError

JWKS_PATH = "/.well-known/govgate-keys"
DEFAULT_TIMEOUT = 10.0


class GatewayError(GovgateError):
    """Base of the client's errors; `retriable` says whether the same call may succeed later."""

    code = "GATEWAY_ERROR"


class GatewayUnreachable(GatewayError):
    """No HTTP answer at all (connection refused, timeout): try again later."""

    code = "GATEWAY_UNREACHABLE"
    retriable = True


class ResponseNotVerified(GatewayError):
    """The response's signature is missing, wrong, or by a key the gateway does not publish.

    Whatever the response said is not to be trusted, nor archived as proof.
    """

    code = "RESPONSE_NOT_VERIFIED"


class ContentNotVerified(ResponseNotVerified):
    """A downloaded file whose bytes do not match the signed Content-Digest, or that ended
    before its end (the gateway cuts a file short when its stored bytes are bad). Nothing was
    written to the target path."""

    code = "CONTENT_NOT_VERIFIED"


class GatewayRefused(GatewayError):
    """A verified refusal: RFC 9457 problem details with the gateway's stable `code`."""

    def __init__(self, status: int, code: str, detail: str, answer: Answer) -> None:
        super().__init__(f"{status}, {detail}", code=code)
        self.status, self.detail, self.answer = status, detail, answer


class NotAuthorized(GatewayRefused):
    """401/403: the signature, key, role, purpose or grant does not allow this request."""


class NotFound(GatewayRefused):
    """404: nothing there that this member may see (the gateway does not say which)."""


class InvalidRequest(GatewayRefused):
    """400/405/413/422: the request is malformed; `errors` lists field errors when given."""

    @property
    def errors(self) -> list[dict[str, str]]:
        found = self.answer.data.get("errors") if isinstance(self.answer.data, dict) else None
        return list(found) if isinstance(found, list) else []


class GatewayUnavailable(GatewayRefused):
    """5xx: the gateway could not answer now (e.g. audit or store unavailable)."""

    retriable = True


@dataclass(frozen=True)
class Answer:
    """A verified response: its parsed JSON, the raw signed response, and what verified."""

    data: Any
    response: httpx.Response  # `.request` holds the signed request the response is bound to
    verified: VerifiedResponse

    @property
    def status(self) -> int:
        return self.response.status_code

    def proof(self) -> dict[str, Any]:
        """What a window system archives: enough to re-run `verify_response` later."""
        request = self.response.request
        return {
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": dict(request.headers),
            },
            "response": {
                "status": self.response.status_code,
                "headers": dict(self.response.headers),
                "body_b64": base64.b64encode(self.response.content).decode("ascii"),
            },
            "gateway_keyid": self.verified.keyid,
        }


@dataclass(frozen=True)
class Download:
    """A file fetched by `download_material`: where it was written and what verified it.

    The bytes were checked against one digest of the signed Content-Digest: SHA-256 (`sha256`
    set), or SM3 (`sm3` set) for a client of `digest="sm3"` or a file the gateway states only
    by SM3 (国密)."""

    path: Path
    sha256: str | None
    size: int
    content_type: str
    response: httpx.Response  # the signed head (status, headers, the signed request)
    verified: VerifiedResponse
    sm3: str | None = None

    def proof(self) -> dict[str, Any]:
        """The signed request and response head: with the file's SHA-256 (its Content-Digest,
        covered by the signature), proof of which bytes the gateway gave."""
        request = self.response.request
        return {
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": dict(request.headers),
            },
            "response": {
                "status": self.response.status_code,
                "headers": dict(self.response.headers),
            },
            "sha256": self.sha256,
            "sm3": self.sm3,
            "gateway_keyid": self.verified.keyid,
        }


def _refusal(status: int) -> type[GatewayRefused]:
    if status in (401, 403):
        return NotAuthorized
    if status == 404:
        return NotFound
    if status >= 500:
        return GatewayUnavailable
    return InvalidRequest


def _target(path: str, params: Mapping[str, Any] | None) -> str:
    """`path?query` percent-encoded (UTF-8), the exact text that is signed and sent."""
    query = {k: str(v) for k, v in (params or {}).items() if v is not None}
    encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    return encode_url(path) + (f"?{encoded}" if encoded else "")


class GatewayClient:
    """An async context manager over one `httpx.AsyncClient`, signing as one member key."""

    def __init__(
        self,
        base_url: str,
        *,
        member_id: str,
        private_key: PrivateKey,
        keyid: str | None = None,
        gateway_keys: Mapping[str, PublicKey] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        digest: DigestAlgorithm | None = None,
        public_url: str | None = None,
    ) -> None:
        """`gateway_keys` pins the gateway's keys (no fetch); else they come from its JWKS.

        `digest` is the Content-Digest algorithm of request bodies and, unless `sha-256` (what
        the gateway uses by default), the one asked of responses (`Want-Content-Digest`) and
        required of them; by default `sm3` for an SM2 key, else `sha-256`.

        Requests are signed for the gateway at `base_url` (its host and port are covered, as
        `@authority`), or at `public_url` when given: the URL the gateway knows itself by
        (`gateway.public_url`), for a client that reaches it some other way (past its proxy).
        """
        self.base_url = base_url.rstrip("/")
        self.signed_url = (public_url or base_url).rstrip("/")
        self.member_id = member_id
        self.keyid = keyid or key_id(private_key)
        self._key = private_key
        if digest is None:
            digest = "sm3" if algorithm_of(private_key) == "sm2-sm3" else "sha-256"
        self.digest: DigestAlgorithm = digest
        self._pinned = gateway_keys is not None
        self._gateway_keys: dict[str, PublicKey] | None = (
            dict(gateway_keys) if gateway_keys is not None else None
        )
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the gateway's surface ---------------------------------------------------------------

    async def certificates(
        self,
        holder_id: str,
        type_code: str | None = None,
        *,
        purpose: str,
        case: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> Answer:
        """One page of the holder's certificates granted for `purpose` (事项编码)."""
        params = {"holder_id": holder_id, "type_code": type_code, "limit": limit, "after": after}
        return await self.request(
            "GET", "/v1/certificates", purpose=purpose, case=case, params=params
        )

    async def certificate(self, cert_id: str, *, purpose: str, case: str | None = None) -> Answer:
        """One certificate by its id."""
        path = f"/v1/certificates/{urllib.parse.quote(cert_id, safe='')}"
        return await self.request("GET", path, purpose=purpose, case=case)

    async def materials(
        self,
        holder_id: str,
        catalog_code: str | None = None,
        *,
        purpose: str,
        case: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> Answer:
        """One page of the materials (申请材料) the holder already submitted."""
        params = {
            "holder_id": holder_id,
            "catalog_code": catalog_code,
            "limit": limit,
            "after": after,
        }
        return await self.request("GET", "/v1/materials", purpose=purpose, case=case, params=params)

    async def reusable_materials(
        self, holder_id: str, catalog_code: str, *, purpose: str, case: str | None = None
    ) -> Answer:
        """The holder's materials of one catalog offered for reuse today, in one call."""
        params = {"holder_id": holder_id, "catalog_code": catalog_code, "reusable": "true"}
        return await self.request("GET", "/v1/materials", purpose=purpose, case=case, params=params)

    async def download_material(
        self, material_id: str, path: Path | str, *, purpose: str, case: str | None = None
    ) -> Download:
        """Stream a material's file to `path`, checking the gateway's signature on the head
        (it must cover Content-Digest) and every byte against that digest.

        The file is written beside `path` first and moved there only once verified; a file
        that does not verify raises `ContentNotVerified` and leaves nothing at `path`.
        """
        target = _target(f"/v1/materials/{urllib.parse.quote(material_id, safe='')}/content", {})
        headers: dict[str, str] = {"Accept": "*/*", "Gov-Purpose": purpose}
        if case is not None:
            headers["Gov-Case"] = case
        url = self.base_url + target
        signed = sign_request("GET", url, headers, b"", keyid=self.keyid, private_key=self._key)
        try:
            async with self._http.stream("GET", target, headers=signed) as response:
                if response.status_code != 200:
                    await response.aread()
                    await self._refused(response, url, signed)
                verified = await self._verify_head(response, url, signed)
                return await self._save(response, Path(path), verified)
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"GET {target}: {exc!r}") from exc

    async def _refused(self, response: httpx.Response, url: str, sent: Mapping[str, str]) -> None:
        verified = await self._verify(response, "GET", url, sent)
        answer = Answer(_parse(response), response, verified)
        data = answer.data if isinstance(answer.data, dict) else {}
        code = str(data.get("code", f"HTTP_{response.status_code}"))
        detail = str(data.get("detail", response.reason_phrase))
        raise _refusal(response.status_code)(response.status_code, code, detail, answer)

    async def _verify_head(
        self, response: httpx.Response, url: str, sent: Mapping[str, str]
    ) -> VerifiedResponse:
        verified = await self._verify(response, "GET", url, sent, body=None)
        if '"content-digest"' not in verified.covered:
            raise ResponseNotVerified("the response signature does not cover Content-Digest")
        return verified

    async def _save(
        self, response: httpx.Response, path: Path, verified: VerifiedResponse
    ) -> Download:
        alg, expected = _file_digest(response.headers.get("content-digest", ""), self.digest)
        digest = new_hasher(alg)
        size = 0
        partial = path.with_name(f".{path.name}.part")
        out = await asyncio.to_thread(partial.open, "wb")
        try:
            try:
                async for chunk in response.aiter_raw():
                    digest.update(chunk)
                    size += len(chunk)
                    await asyncio.to_thread(out.write, chunk)
            except (httpx.TransportError, httpx.StreamError) as exc:
                raise ContentNotVerified(f"the file ended after {size} bytes: {exc!r}") from exc
            finally:
                await asyncio.to_thread(out.close)
            if digest.digest() != expected:
                raise ContentNotVerified(
                    f"{size} bytes hash to {digest.hexdigest()}, not to the signed Content-Digest"
                )
            await asyncio.to_thread(os.replace, partial, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(partial.unlink)
        return Download(
            path,
            digest.hexdigest() if alg == "sha-256" else None,
            size,
            response.headers.get("content-type", "application/octet-stream"),
            response,
            verified,
            digest.hexdigest() if alg == "sm3" else None,
        )

    async def case(self, case_no: str, *, purpose: str) -> Answer:
        """A case's timeline (办件进程)."""
        path = f"/v1/cases/{urllib.parse.quote(case_no, safe='')}"
        return await self.request("GET", path, purpose=purpose)

    async def credit(self, subject_id: str, item: str | None = None, *, purpose: str) -> Answer:
        """A credit check (失信联合惩戒): whether the subject (USCC or resident id number) is
        restricted for `item` (事项编码 or category; default `purpose`), and by which entries."""
        path = f"/v1/credit/{urllib.parse.quote(subject_id, safe='')}"
        return await self.request("GET", path, purpose=purpose, params={"item": item})

    async def claim_notice(
        self, notice_id: str, *, department_code: str | None = None, note: str | None = None
    ) -> Answer:
        """Claim (认领) a 双告知 notice for the member's department (subscriber members);
        `department_code` names the department when claiming from the pool."""
        path = f"/v1/notices/{urllib.parse.quote(notice_id, safe='')}/claim"
        fields = {"department_code": department_code, "note": note}
        return await self.request("POST", path, json={k: v for k, v in fields.items() if v})

    async def publish(self, kind: str, record: Mapping[str, Any]) -> Answer:
        """Push one canonical record (publisher members); dates and times become ISO texts."""
        path = f"/v1/events/{urllib.parse.quote(kind, safe='')}"
        return await self.request("POST", path, json=to_jsonable(dict(record)))

    async def access_log(
        self,
        holder_id: str,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> Answer:
        """Who looked at the holder's data (auditor members), newest first."""
        params = {"holder_id": holder_id, "limit": limit, "after": after}
        return await self.request("GET", "/v1/access-log", purpose=purpose, params=params)

    async def subscribe(
        self,
        stream: str,
        target_url: str,
        *,
        department: str | None = None,
        region: str | None = None,
        item: str | None = None,
        after: str | None = None,
        start: str | None = None,
    ) -> Answer:
        """Create a webhook subscription (subscriber members); the answer holds its id."""
        fields = {
            "stream": stream,
            "target_url": target_url,
            "department": department,
            "region": region,
            "item": item,
            "after": after,
            "start": start,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        return await self.request("POST", "/v1/subscriptions", json=body)

    async def verify_delivery(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        nonces: NonceCheck | None = None,
    ) -> VerifiedDelivery:
        """Check a webhook delivery received at `url` (the target URL subscribed) against the
        gateway's published keys; raises the `SignatureError` saying why it does not verify.

        The events are handed back only from a verified delivery; de-duplicate them on `id`.
        """
        for attempt in (0, 1):
            keys = await self.gateway_keys(refresh=attempt == 1)
            try:
                return await verify_delivery(url, headers, body, keys=keys, nonces=nonces)
            except KeyUnknown:
                if attempt == 1 or self._pinned:
                    raise
        raise AssertionError("unreachable")

    async def request(
        self,
        method: str,
        path: str,
        *,
        purpose: str | None = None,
        case: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Answer:
        """Sign, send, verify; the verified answer, or the refusal it carries, raised."""
        target = _target(path, params)
        body = b"" if json is None else _dumps(json)
        headers: dict[str, str] = {"Accept": "application/json"}
        if self.digest != "sha-256":
            headers["Want-Content-Digest"] = f"{self.digest}=10"
        if purpose is not None:
            headers["Gov-Purpose"] = purpose
        if case is not None:
            headers["Gov-Case"] = case
        if body:
            headers["Content-Type"] = "application/json"
        signed = sign_request(
            method,
            self.signed_url + target,
            headers,
            body,
            keyid=self.keyid,
            private_key=self._key,
            digest=self.digest,
        )
        try:
            response = await self._http.request(method, target, headers=signed, content=body)
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"{method} {target}: {exc!r}") from exc
        verified = await self._verify(response, method, self.signed_url + target, signed)
        answer = Answer(_parse(response), response, verified)
        if response.status_code >= 400:
            data = answer.data if isinstance(answer.data, dict) else {}
            code = str(data.get("code", f"HTTP_{response.status_code}"))
            detail = str(data.get("detail", response.reason_phrase))
            raise _refusal(response.status_code)(response.status_code, code, detail, answer)
        return answer

    # -- verification ------------------------------------------------------------------------

    async def gateway_keys(self, *, refresh: bool = False) -> dict[str, PublicKey]:
        """The gateway's published keys by key id (fetched on first use, or when `refresh`)."""
        if self._gateway_keys is None or (refresh and not self._pinned):
            try:
                response = await self._http.get(JWKS_PATH)
                response.raise_for_status()
                self._gateway_keys = keys_from_jwks(response.json())
            except httpx.TransportError as exc:
                raise GatewayUnreachable(f"GET {JWKS_PATH}: {exc!r}") from exc
            except (httpx.HTTPStatusError, ValueError, MembersError) as exc:
                raise ResponseNotVerified(f"no usable key set at {JWKS_PATH}: {exc}") from exc
        return self._gateway_keys

    async def _verify(
        self,
        response: httpx.Response,
        method: str,
        url: str,
        sent: Mapping[str, str],
        *,
        body: bytes | None | Literal["content"] = "content",
    ) -> VerifiedResponse:
        """`body=None` checks a streamed response's head (signed without the body)."""
        for attempt in (0, 1):
            keys = await self.gateway_keys(refresh=attempt == 1)
            try:
                return verify_response(
                    response.status_code,
                    response.headers,
                    response.content if body == "content" else body,
                    request_method=method,
                    request_url=url,
                    request_headers=sent,
                    keys=keys,
                    digest=None if self.digest == "sha-256" else self.digest,
                )
            except KeyUnknown as exc:
                if attempt == 1 or self._pinned:
                    raise ResponseNotVerified(f"{exc.code}: {exc.detail}") from exc
            except SignatureError as exc:
                raise ResponseNotVerified(f"{exc.code}: {exc.detail}") from exc
        raise AssertionError("unreachable")


def _file_digest(value: str, preferred: str) -> tuple[HashName, bytes]:
    """The member of a file's Content-Digest field (RFC 9530) to check its bytes with: the
    client's own algorithm; a client of SHA-256 takes SM3 when that is all there is (a file
    stored by SM3 from an SM-only gateway), a client of SM3 nothing else. `ContentNotVerified`
    when there is none."""
    found: dict[str, bytes] = {}
    for member in value.split(","):
        name, _, rest = member.strip().partition("=")
        if rest.startswith(":") and rest.endswith(":"):
            try:
                found.setdefault(name.strip(), base64.b64decode(rest[1:-1], validate=True))
            except ValueError:
                continue
    order: tuple[HashName, ...] = ("sm3",) if preferred == "sm3" else ("sha-256", "sm3")
    for alg in order:
        if len(found.get(alg, b"")) == 32:
            return alg, found[alg]
    raise ContentNotVerified(f"no {' or '.join(order)} in Content-Digest {value[:100]!r}")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _parse(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
