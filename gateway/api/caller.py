"""Who is calling: the member that signed the request, as authentication found it."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.members.store import Grant, Member, Role


@dataclass(frozen=True)
class Caller:
    """The member that signed the request, with the key it used, its roles and grants."""

    member: Member
    keyid: str
    roles: tuple[Role, ...]
    grants: tuple[Grant, ...]
    purpose: str | None  # 事项编码 from Gov-Purpose
    case_no: str | None  # 办件编号 from Gov-Case

    @property
    def member_id(self) -> str:
        return self.member.member_id
