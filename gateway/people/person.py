"""Who is signed in (`Person`) and the roles (角色) a person may hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias, get_args

Role: TypeAlias = Literal["operator", "officer", "supervisor", "auditor", "readonly"]
ROLES: tuple[Role, ...] = get_args(Role)
ROLE_NAMES: dict[Role, str] = {
    "operator": "大数据局运维",
    "officer": "部门数据专员",
    "supervisor": "电子监察",
    "auditor": "审计",
    "readonly": "只读",
}
PERSON_PREFIX = "person:"  # the audit chain's actor for a person: person:<username>


@dataclass(frozen=True)
class Person:
    """A signed-in person. `department_code` is set for officers (部门数据专员) only."""

    username: str
    display_name: str
    role: Role
    department_code: str | None = None

    @property
    def actor(self) -> str:
        """The name the audit chain records this person's actions under."""
        return f"{PERSON_PREFIX}{self.username}"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]
