"""What the gateway process holds open while it serves: built once by the lifespan.

The store and the log, the members and nonce stores, the audit writer, the lookup store, the
file store (materials' contents), the gateway's response-signing keys, the metrics, the webhook
subscriptions, and the background tasks: (when `gateway.materialize`) the materializer keeping
the lookup store current, and (when `webhooks.deliver`) the webhook deliverer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.api import policy
from gateway.audit.anchors import anchor_every
from gateway.audit.log import SECRET_ENV, AuditLog, load_secret
from gateway.audit.refusals import RefusalTally
from gateway.catalogue.classes import SharingClasses
from gateway.feeds import ItemView, StreamSlots
from gateway.files import FileStore, open_file_store
from gateway.governance.service import Governance
from gateway.log import EventLog, open_log
from gateway.lookup import LookupStore, Materializer
from gateway.lookup.case_cache import CaseCache
from gateway.members.cache import MemberCache
from gateway.members.errors import AlgorithmNotAllowed, KeyFormatError
from gateway.members.keys import (
    PrivateKey,
    PublicKey,
    algorithm_of,
    check_allowed,
    generate_private_key,
    key_id,
    read_private_key,
    read_public_key,
    write_key_pair,
)
from gateway.members.nonces import NonceStore
from gateway.members.store import MembersStore
from gateway.metrics import Metrics
from gateway.notices.claims import Claims
from gateway.notices.rules import RoutingTable, load_rules
from gateway.publishing import PublishingStore
from gateway.settings import Settings
from gateway.store import open_database
from gateway.store.files import private_dir
from gateway.webhooks.deliverer import Deliverer
from gateway.webhooks.store import Subscription, SubscriptionStore
from schemas.codec import EventCodec

logger = logging.getLogger(__name__)

KEY_NAME = "gateway"
SECRET_FILE = "audit.secret"


@dataclass(frozen=True)
class SigningKeys:
    """The key the gateway signs responses with, and every key it publishes."""

    keyid: str
    private_key: PrivateKey
    published: tuple[PrivateKey | PublicKey, ...]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    log: EventLog
    members: MembersStore
    member_cache: MemberCache
    nonces: NonceStore
    audit: AuditLog
    audit_secret: bytes
    refusals: RefusalTally
    streams: StreamSlots
    lookup: LookupStore
    cases: CaseCache  # the case of Gov-Case, for purpose binding
    keys: SigningKeys
    codec: EventCodec
    metrics: Metrics
    subscriptions: SubscriptionStore
    claims: Claims
    routing: RoutingTable  # 双告知 rules: which department a claimed pool notice goes to
    files: FileStore
    publishing: PublishingStore
    governance: Governance  # catalogue, applications, grants (gateway.governance)
    sharing_classes: SharingClasses  # the catalogue's classes, as the policy reads them
    materializer: Materializer | None = None
    deliverer: Deliverer | None = None


def services(request: Request) -> Services:
    found = request.app.state.services
    assert isinstance(found, Services)
    return found


def load_signing_keys(settings: Settings) -> SigningKeys:
    """The configured response key, or DATA_DIR/keys/gateway.private.pem (made if missing, in
    `gateway.generated_key_alg`: `sm2-sm3` on an SM-only gateway).

    A key of an algorithm `gateway.algorithms` does not allow, or not the one
    `gateway.response_key_alg` names, is refused (`AlgorithmNotAllowed`, `KeyFormatError`):
    the gateway does not start rather than sign with what the operator ruled out. Previous
    keys are published whatever their algorithm, so that proofs kept from before a switch to
    SM2 keep verifying.
    """
    gateway = settings.gateway
    path = gateway.response_key
    if path is None:
        path = settings.data_dir / "keys" / f"{KEY_NAME}.private.pem"
        if not path.exists():
            private_dir(path.parent)
            key = generate_private_key(gateway.generated_key_alg)
            write_key_pair(path.parent, key, name=KEY_NAME)
            logger.info("generated the gateway's %s response key at %s", algorithm_of(key), path)
    key = read_private_key(path)
    alg = algorithm_of(key)
    if gateway.response_key_alg is not None and alg != gateway.response_key_alg:
        raise KeyFormatError(
            f"{path} is an {alg} key, not {gateway.response_key_alg} "
            "(GOVGATE_GATEWAY_RESPONSE_KEY_ALG); move it aside to generate one, and list its "
            "public key in GOVGATE_GATEWAY_PREVIOUS_KEYS to keep old proofs verifiable"
        )
    try:
        check_allowed(key, gateway.algorithms)
    except AlgorithmNotAllowed as exc:
        raise AlgorithmNotAllowed(f"the gateway's response key {path}: {exc.detail}") from exc
    previous = tuple(read_public_key(p) for p in gateway.previous_keys)
    return SigningKeys(key_id(key), key, (key, *previous))


def load_audit_secret(settings: Settings, *, create: bool = True) -> bytes:
    """`gateway.audit_secret`, else $GOVGATE_AUDIT_SECRET, else DATA_DIR/keys/audit.secret
    (made if missing and `create`; else ValueError: a new secret would verify no row)."""
    if settings.gateway.audit_secret is not None:
        return load_secret(settings.gateway.audit_secret.get_secret_value())
    if os.environ.get(SECRET_ENV):
        return load_secret()
    path = settings.data_dir / "keys" / SECRET_FILE
    if not path.exists() and not create:
        raise ValueError(
            f"no audit secret: set {SECRET_ENV} or gateway.audit_secret, or run where {path} is"
        )
    if not path.exists():
        private_dir(path.parent)
        with contextlib.suppress(FileExistsError):  # another worker made it first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
            logger.warning("generated an audit secret at %s; set %s to share it", path, SECRET_ENV)
    return load_secret(Path(path).read_text().strip())


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        log = await stack.enter_async_context(
            open_log(settings, engine, wait=settings.kafka.startup_wait_s)
        )
        secret = await asyncio.to_thread(load_audit_secret, settings)
        audit = await stack.enter_async_context(
            AuditLog(engine, secret, hash_alg=settings.gateway.audit_hash)
        )
        keys = await asyncio.to_thread(load_signing_keys, settings)
        members = MembersStore(engine)
        lookup = LookupStore(engine)
        nonces = NonceStore(engine)
        routing = await asyncio.to_thread(load_rules, settings.notices.rules)
        codec = EventCodec()
        stack.push_async_callback(nonces.close)
        files = await stack.enter_async_context(open_file_store(settings))
        governance = Governance.build(engine, audit, log, codec, members, settings.governance)
        found = Services(
            settings=settings,
            engine=engine,
            log=log,
            members=members,
            member_cache=MemberCache(members, settings.gateway.member_cache_s),
            nonces=nonces,
            audit=audit,
            audit_secret=secret,
            lookup=lookup,
            cases=CaseCache(lookup, settings.gateway.member_cache_s),
            keys=keys,
            codec=codec,
            metrics=Metrics(audit),
            subscriptions=SubscriptionStore(engine),
            claims=Claims(engine, log, codec),
            routing=routing,
            publishing=PublishingStore(engine),
            refusals=RefusalTally(audit, settings.gateway.audit_refusals_interval_s),
            streams=StreamSlots(
                settings.gateway.max_streams_per_member, settings.gateway.max_streams
            ),
            files=files,
            governance=governance,
            sharing_classes=SharingClasses(governance.catalogue, settings.gateway.member_cache_s),
        )
        tallying = asyncio.create_task(found.refusals.run(), name="audit-refusals")
        if settings.gateway.audit_anchor_interval_s > 0:
            anchoring = asyncio.create_task(
                anchor_every(
                    engine,
                    log,
                    found.codec,
                    settings.gateway.id,
                    settings.gateway.audit_anchor_interval_s,
                    keys.private_key,
                    file=settings.gateway.audit_anchor_file,
                ),
                name="audit-anchors",
            )
            stack.push_async_callback(_cancel, anchoring)  # after the tally's last rows
        stack.push_async_callback(_cancel, tallying)
        if found.metrics.multiprocess:  # govgate up --workers N: see gateway.metrics
            refreshing = asyncio.create_task(found.metrics.refresh_every(), name="metrics")
            stack.push_async_callback(_cancel, refreshing)
        if settings.gateway.materialize:
            found.materializer = Materializer(log, engine)
            found.metrics.materializer = found.materializer
            task = asyncio.create_task(found.materializer.run(), name="materializer")
            task.add_done_callback(_report_end)
            stack.push_async_callback(_stop_materializer, found.materializer, task)
        if settings.webhooks.deliver:
            found.deliverer = _deliverer(found)
            delivering = asyncio.create_task(found.deliverer.run(), name="webhooks")
            delivering.add_done_callback(_report_deliverer_end)
            stack.push_async_callback(_stop_deliverer, found.deliverer, delivering)
        yield found


def _deliverer(found: Services) -> Deliverer:
    async def views(sub: Subscription) -> ItemView:
        """The subscription's member's grants, now (revocations count at the next batch)."""
        return policy.feed_view(await found.member_cache.grants(sub.member_id), sub.stream)

    return Deliverer(
        found.subscriptions,
        found.log,
        found.codec,
        found.settings.webhooks,
        keyid=found.keys.keyid,
        private_key=found.keys.private_key,
        digest=found.settings.gateway.digest_algorithms[0],
        metrics=found.metrics,
        views=views,
    )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _report_end(task: asyncio.Task[object]) -> None:
    """A materializer that ends while the gateway serves leaves lookups going stale: say so."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("the materializer stopped: %r; lookups go stale", task.exception())


def _report_deliverer_end(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the webhook deliverer stopped: %r; webhooks wait", task.exception())


async def _stop_materializer(materializer: Materializer, task: asyncio.Task[object]) -> None:
    await materializer.stop()
    with contextlib.suppress(Exception):  # its failure was reported when it ended
        await asyncio.wait_for(task, timeout=10)


async def _stop_deliverer(deliverer: Deliverer, task: asyncio.Task[object]) -> None:
    await deliverer.stop()
    with contextlib.suppress(Exception):  # its failure was reported when it ended
        await asyncio.wait_for(task, timeout=10)
