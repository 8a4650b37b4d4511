"""The governance story's data, seeded through the gateway's own services: 市场监管 (SCJG)
publishes its 有条件共享 营业执照, the county window (330802-ZHCK) has a key and applies for two
fields, and a certificate of the samples is on the lookup store."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.api.services import Services
from gateway.catalogue.entries import parse_entry
from gateway.governance.acting import PersonActions
from gateway.governance.application_in import ApplicationIn
from gateway.governance.record import Actor
from gateway.lookup import replay
from gateway.members.keys import PrivateKey, generate_private_key
from gateway.people.person import Person
from schemas.codec import EventCodec
from tests.gateway.api.conftest import PURPOSE
from tests.gateway.api.routes.test_governance_story import ENTRY
from tests.samples import certificate

SCJG_OFFICER = Person("story-scjg", "专员", "officer", "SCJG")
CERT = "330802-YYZZ-0001"


@dataclass
class Story:
    window_key: PrivateKey
    application_id: str


async def seed(services: Services, *, apply: bool = True) -> Story:
    """The members, the entry, one application (unless not `apply`), and the certificate."""
    key = generate_private_key("ed25519")
    for member_id, department, keys in (
        ("scjg", "SCJG", [generate_private_key("ed25519").public_key()]),
        ("window", "330802-ZHCK", [key.public_key()]),
    ):
        await services.members.add_member(
            member_id, ("consumer",), name=f"{member_id} 系统", keys=keys, department=department
        )
    await PersonActions(services.governance).publish(SCJG_OFFICER, parse_entry(ENTRY))
    app_id = ""
    if apply:
        app_id = await apply_for(services)
    codec = EventCodec()
    await services.log.append("certificates", [codec.encode("Certificate", certificate())])
    await replay(services.log, services.engine, streams=["certificates"])
    return Story(key, app_id)


async def apply_for(
    services: Services, fields: tuple[str, ...] = ("法定代表人", "住所"), days: int = 30
) -> str:
    request = ApplicationIn("SCJG-YYZZ", (PURPOSE,), "企业开办一窗通办，核验营业执照", fields, days)
    app = await services.governance.applications.apply(Actor("window", "330802-ZHCK"), request)
    return str(app["application_id"])


async def passed(services: Services, application_id: str) -> None:
    """The bureau's check, passed by an operator."""
    operator = Person("story-op", "运维", "operator")
    await PersonActions(services.governance).check(operator, application_id, "PASS", None)


async def approved(services: Services, application_id: str) -> str:
    """Both steps passed; the grant's id."""
    await passed(services, application_id)
    await PersonActions(services.governance).decide(SCJG_OFFICER, application_id, "APPROVE", None)
    (grant,) = await services.governance.grants.all()
    return grant.grant_id
