"""The Kafka event log (aiokafka): one topic per stream, `acks=all`, keys preserved.

Topics are `<prefix>.<stream>.v<major>`, created at start with the configured partitions and
replication factor; `certificates` and `materials` are compacted by key. The idempotent
producer is not used (it is not needed for at-least-once delivery, whose duplicates the
deterministic event ids make recognisable, and not every Kafka-protocol broker offers it).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner

from gateway.log.base import (
    Appendable,
    Appended,
    EventLog,
    GroupConsumer,
    LogReader,
    LogRecord,
    Position,
    check_stream,
)
from gateway.log.errors import LogError, LogUnavailable, RecordRejected
from gateway.log.streams import STREAMS, topic_name
from gateway.settings import KafkaSettings

_TOPIC_ALREADY_EXISTS = 36
_M = 0x5BD1E995
_WORDS = [struct.Struct(f"<{n}I") for n in range(64)]  # little-endian 32-bit words of a key


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key, as aiokafka's (and the Java client's) partitioner computes
    it; the same arithmetic on whole words, about twice as fast: it runs once per record."""
    length = len(data)
    h = 0x9747B28C ^ length
    words = length >> 2
    unpack = _WORDS[words].unpack_from if words < 64 else struct.Struct(f"<{words}I").unpack_from
    for k in unpack(data):
        k = (k * _M) & 0xFFFFFFFF
        k ^= k >> 24
        h = ((h * _M) & 0xFFFFFFFF) ^ ((k * _M) & 0xFFFFFFFF)
    tail = length & 3
    if tail:
        end = length & ~3
        if tail == 3:
            h ^= data[end + 2] << 16
        if tail >= 2:
            h ^= data[end + 1] << 8
        h = ((h ^ data[end]) * _M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _M) & 0xFFFFFFFF
    return h ^ (h >> 15)


def translate(exc: BaseException) -> LogError:
    """An aiokafka error as a log error that says whether to retry."""
    if isinstance(exc, MessageSizeTooLargeError):
        return RecordRejected(f"kafka: {exc!r}")
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError | OSError | asyncio.TimeoutError):
        return LogUnavailable(f"kafka: {exc!r}")
    if isinstance(exc, KafkaError) and exc.retriable:
        return LogUnavailable(f"kafka: {exc!r}")
    return LogError(f"kafka: {exc!r}")


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except (TimeoutError, KafkaError, OSError) as exc:
        raise translate(exc) from exc


class KafkaLog(EventLog):
    backend = "kafka"

    def __init__(self, settings: KafkaSettings) -> None:
        if not settings.bootstrap:
            raise ValueError("KafkaLog needs kafka.bootstrap")
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._meta: AIOKafkaConsumer | None = None  # group-less consumer for end offsets
        self._meta_lock = asyncio.Lock()
        self._meta_start_lock = asyncio.Lock()
        self._partitioner = DefaultPartitioner()

    def topic(self, stream: str) -> str:
        check_stream(stream)
        return topic_name(self.settings.topic_prefix, stream)

    def client_options(self) -> dict[str, Any]:
        """Connection options shared by producer, consumers and the admin client."""
        s = self.settings
        options: dict[str, Any] = {
            "bootstrap_servers": s.bootstrap,
            "client_id": s.client_id,
            "request_timeout_ms": s.request_timeout_ms,
            "security_protocol": s.security_protocol,
        }
        if s.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(
                cafile=str(s.ssl_cafile) if s.ssl_cafile else None,
                certfile=str(s.ssl_certfile) if s.ssl_certfile else None,
                keyfile=str(s.ssl_keyfile) if s.ssl_keyfile else None,
            )
        if s.sasl_mechanism:
            options["sasl_mechanism"] = s.sasl_mechanism
            options["sasl_plain_username"] = s.sasl_username
            options["sasl_plain_password"] = (
                s.sasl_password.get_secret_value() if s.sasl_password else None
            )
        return options

    async def start(self) -> None:
        """Connect, create missing topics, start the producer. Raises `LogUnavailable`."""
        async with _translated():
            await self.ensure_topics()
            producer = AIOKafkaProducer(
                **self.client_options(),
                acks="all",
                enable_idempotence=False,
                linger_ms=self.settings.linger_ms,
                max_batch_size=1 << 20,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer

    async def ensure_topics(self) -> None:
        admin = AIOKafkaAdminClient(**self.client_options())
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(
                    topic_name(self.settings.topic_prefix, s.name),
                    num_partitions=self.settings.partitions,
                    replication_factor=self.settings.replication_factor,
                    topic_configs=self._topic_config(s.compacted),
                )
                for s in STREAMS.values()
                if topic_name(self.settings.topic_prefix, s.name) not in existing
            ]
            if missing:
                response = await admin.create_topics(missing)
                for error in response.topic_errors:
                    name, code = error[0], error[1]
                    if code not in (0, _TOPIC_ALREADY_EXISTS):
                        raise LogError(f"kafka: creating topic {name} failed with error {code}")
        finally:
            await admin.close()

    def _topic_config(self, compacted: bool) -> dict[str, str]:
        if compacted:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.settings.retention_ms)}

    async def append(self, stream: str, records: Sequence[Appendable]) -> list[Appended]:
        topic = self.topic(stream)
        if self._producer is None:
            raise LogUnavailable("kafka log is not started")
        async with _translated():
            return await self._append_batches(self._producer, topic, records)

    async def _append_batches(
        self, producer: AIOKafkaProducer, topic: str, records: Sequence[Appendable]
    ) -> list[Appended]:
        """Partition by key as the default partitioner does, then hand aiokafka whole record
        batches (one future per batch, not per record: about twice the throughput)."""
        partitions = sorted(await producer.partitions_for(topic))
        members: dict[int, list[int]] = {}
        count = len(partitions)
        for i, record in enumerate(records):
            key = record.key
            if key.__class__ is bytes:  # as DefaultPartitioner: murmur2, positive, modulo
                partition = partitions[(murmur2(key) & 0x7FFFFFFF) % count]
            else:
                partition = self._partitioner(key, partitions, partitions)
            members.setdefault(partition, []).append(i)
        sent: list[tuple[asyncio.Future[Any], int, list[int]]] = []
        for partition, indices in members.items():
            batch, in_batch = producer.create_batch(), list[int]()
            for i in indices:
                record = records[i]
                headers = record.headers  # aiokafka's builder takes a list
                if headers.__class__ is not list:
                    headers = list(headers)
                if (
                    batch.append(
                        key=record.key, value=record.value, timestamp=None, headers=headers
                    )
                    is None
                ):
                    future = await producer.send_batch(batch, topic, partition=partition)
                    sent.append((future, partition, in_batch))
                    batch, in_batch = producer.create_batch(), list[int]()
                    if (
                        batch.append(
                            key=record.key, value=record.value, timestamp=None, headers=headers
                        )
                        is None
                    ):
                        raise RecordRejected(f"kafka: record {i} is larger than a whole batch")
                in_batch.append(i)
            if in_batch:
                future = await producer.send_batch(batch, topic, partition=partition)
                sent.append((future, partition, in_batch))
        acks: list[Appended] = [Appended(0, 0)] * len(records)
        for future, partition, in_batch in sent:
            base = (await future).offset
            for n, i in enumerate(in_batch):
                acks[i] = Appended(partition, base + n)
        return acks

    async def _partitions(self, stream: str) -> list[TopicPartition]:
        meta = await self._meta_consumer()
        topic = self.topic(stream)
        partitions = meta.partitions_for_topic(topic)
        if not partitions:
            async with _translated():
                await meta._client.force_metadata_update()  # noqa: SLF001 - no public refresh
            partitions = meta.partitions_for_topic(topic) or set()
        if not partitions:
            raise LogUnavailable(f"kafka: no partitions known for {topic}")
        return [TopicPartition(topic, p) for p in sorted(partitions)]

    async def _meta_consumer(self) -> AIOKafkaConsumer:
        async with self._meta_start_lock:  # two first callers must not start two consumers
            if self._meta is None:
                consumer = AIOKafkaConsumer(**self.client_options(), enable_auto_commit=False)
                try:
                    async with _translated():
                        await consumer.start()
                except BaseException:
                    await consumer.stop()
                    raise
                self._meta = consumer
        return self._meta

    async def end_position(self, stream: str) -> Position:
        partitions = await self._partitions(stream)
        meta = await self._meta_consumer()
        async with self._meta_lock, _translated():
            listed = await meta.end_offsets(partitions)
            return await self._confirm_high_watermarks(meta, listed)

    async def _confirm_high_watermarks(
        self, meta: AIOKafkaConsumer, listed: dict[TopicPartition, int]
    ) -> Position:
        """Correct ListOffsets(latest) with the high watermark of a fetch response.

        Some Kafka-protocol brokers (tansu 0.6) answer ListOffsets(latest) with the newest
        batch's base offset + 1 instead of the high watermark. A fetch of the newest batch
        carries the true high watermark; on Apache Kafka both agree.
        """
        ends = {tp.partition: offset for tp, offset in listed.items()}
        nonempty = [tp for tp, offset in listed.items() if offset > 0]
        if not nonempty:
            return ends
        meta.assign(nonempty)
        for tp in nonempty:
            meta.seek(tp, listed[tp] - 1)
        for _ in range(3):
            await meta.getmany(*nonempty, timeout_ms=1000, max_records=1)
            marks = {tp: meta.highwater(tp) for tp in nonempty}
            for tp, mark in marks.items():
                if mark is not None:
                    ends[tp.partition] = max(ends[tp.partition], mark)
            if all(mark is not None for mark in marks.values()):
                break
        meta.assign([])
        return ends

    @asynccontextmanager
    async def reader(self, stream: str, start: Position | None = None) -> AsyncIterator[LogReader]:
        partitions = await self._partitions(stream)
        consumer = AIOKafkaConsumer(
            **self.client_options(),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
        )
        try:
            async with _translated():
                await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        # aiokafka 0.14: stop() right after start() re-raises the cancellation of a task that
        # never ran (NoGroupCoordinator.close); one turn of the loop lets it start.
        await asyncio.sleep(0)
        try:
            consumer.assign(partitions)
            for tp in partitions:
                consumer.seek(tp, (start or {}).get(tp.partition, 0))
            yield _KafkaReader(consumer, stream, dict(start or {}))
        finally:
            await consumer.stop()

    @asynccontextmanager
    async def consumer(self, stream: str, group: str) -> AsyncIterator[GroupConsumer]:
        consumer = AIOKafkaConsumer(
            self.topic(stream),
            **self.client_options(),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=max(self.settings.session_timeout_ms // 5, 100),
            rebalance_timeout_ms=self.settings.session_timeout_ms,
        )
        try:
            async with _translated():
                await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        try:
            yield _KafkaGroupConsumer(consumer, stream)
        finally:
            await consumer.stop()

    async def ping(self) -> None:
        meta = await self._meta_consumer()
        async with _translated():
            await asyncio.wait_for(meta.topics(), self.settings.request_timeout_ms / 1000)

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        meta, self._meta = self._meta, None
        if producer is not None:
            await producer.stop()
        if meta is not None:
            await meta.stop()


class _KafkaReader(LogReader):
    def __init__(self, consumer: AIOKafkaConsumer, stream: str, position: Position) -> None:
        self.consumer = consumer
        self.stream = stream
        self._position = position

    async def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[LogRecord]:
        async with _translated():
            batches = await self.consumer.getmany(
                timeout_ms=int(timeout * 1000), max_records=max_records
            )
        records: list[LogRecord] = []
        for tp, messages in batches.items():
            for m in messages:
                records.append(
                    LogRecord(
                        stream=self.stream,
                        partition=tp.partition,
                        offset=m.offset,
                        key=m.key,
                        value=m.value,
                        headers=tuple(m.headers),
                        timestamp_ms=m.timestamp,
                    )
                )
            if messages:
                self._position[tp.partition] = messages[-1].offset + 1
        return records

    def position(self) -> Position:
        return dict(self._position)


class _KafkaGroupConsumer(_KafkaReader, GroupConsumer):
    def __init__(self, consumer: AIOKafkaConsumer, stream: str) -> None:
        super().__init__(consumer, stream, {})
        self.topic = next(iter(consumer.subscription()))

    async def commit(self, position: Position | None = None) -> None:
        offsets = {
            TopicPartition(self.topic, p): o for p, o in (position or self.position()).items()
        }
        if offsets:
            async with _translated():
                await self.consumer.commit(offsets)

    async def committed(self) -> Position:
        result: Position = {}
        async with _translated():
            for tp in self.consumer.assignment():
                offset = await self.consumer.committed(tp)
                if offset is not None:
                    result[tp.partition] = offset
        return result
