"""The demo's people (`govgate up --demo`): one account per role, password
`<username>-demo-2026`, the officer bound to 市场监管 (SCJG), whose catalogue entry (营业执照,
SCJG-YYZZ) the shipped profiles publish."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.people.accounts import Account, PeopleStore
from gateway.people.person import Role

DEMO_DEPARTMENT = "SCJG"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    role: Role
    department_code: str | None = None

    @property
    def password(self) -> str:
        return f"{self.username}-demo-2026"


DEMO_PEOPLE = (
    DemoPerson("operator", "王运维（大数据局）", "operator"),
    DemoPerson("officer.scjg", "李专员（市场监管局）", "officer", DEMO_DEPARTMENT),
    DemoPerson("supervisor", "赵监察（电子监察）", "supervisor"),
    DemoPerson("auditor", "陈审计（审计）", "auditor"),
    DemoPerson("readonly", "周只读", "readonly"),
)


async def ensure_demo_people(people: PeopleStore) -> list[tuple[DemoPerson, Account]]:
    """Each demo person's account, made when missing (an existing one is left as it is)."""
    made = []
    for demo in DEMO_PEOPLE:
        found = await people.get(demo.username)
        if found is None:
            found = await people.add(
                demo.username,
                demo.display_name,
                demo.role,
                department_code=demo.department_code,
                password=demo.password,
            )
        made.append((demo, found))
    return made
