"""The simulators' clock: Asia/Shanghai wall time, without a zone, as department systems keep it.

Department databases store local time with no offset (`20261123100000`,
`2026-11-23 10:00:00`), so the simulators do too. A simulator's clock never goes back, so an
update's 更新时间 (GXSJ) is never older than the one before it; callers may pin the time with
`at` to make runs reproducible.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.validators import LOCAL_TZ

__all__ = ["SimClock", "compact", "dashed", "local_now", "to_local"]

_SECOND = timedelta(seconds=1)


def local_now() -> datetime:
    """The current Asia/Shanghai wall time, naive, to the second."""
    return datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def to_local(at: datetime) -> datetime:
    """An aware time converted to naive Asia/Shanghai wall time; a naive one is taken as local."""
    if at.tzinfo is not None:
        at = at.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return at.replace(microsecond=0)


def compact(at: datetime) -> str:
    """`yyyyMMddHHmmss`, as in 受理时间 (SLSJ) columns."""
    return at.strftime("%Y%m%d%H%M%S")


def dashed(at: datetime) -> str:
    """`yyyy-MM-dd HH:mm:ss`, as in 更新时间 (GXSJ) columns and JSON APIs."""
    return at.strftime("%Y-%m-%d %H:%M:%S")


class SimClock:
    """Hands out times that never go back.

    With `strict`, every call returns a time at least one second after the previous one: the
    HTTP simulator needs it, because its (gxsj, ywh) cursor must not skip an update made in
    the same second as a page a client has already read.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self._strict = strict
        self._last: datetime | None = None

    def now(self, at: datetime | None = None) -> datetime:
        """`at` (or the wall time), moved forward if it would precede the last time handed out."""
        moment = local_now() if at is None else to_local(at)
        if self._last is not None:
            floor = self._last + _SECOND if self._strict else self._last
            moment = max(moment, floor)
        self._last = moment
        return moment
