"""Personal ids (居民身份证号) on console pages: masked unless the person's role has the right.

Every `{{ … }}` of every console template passes through `finalize` (gateway.api.console.
templating), so a page cannot show an id in clear by forgetting to mask it: deny by default.
Exports and other text a page builds itself go through `mask_for`.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from gateway.people.person import Person
from gateway.settings import ConsoleSettings
from schemas.validators import mask_ids_in_text


def may_see_ids(person: Person | None, settings: ConsoleSettings) -> bool:
    """Whether `person`'s role is one of `console.roles_seeing_ids`."""
    return person is not None and person.role in settings.roles_seeing_ids


def mask_for(text: str, person: Person | None, settings: ConsoleSettings) -> str:
    """`text` with every resident id masked (330802********1234), unless the person may see."""
    return text if may_see_ids(person, settings) else mask_ids_in_text(text)


def masked_value(value: Any) -> Any:
    """A template value with ids masked, keeping its type where it matters (Markup stays safe)."""
    if isinstance(value, Markup):
        return Markup(mask_ids_in_text(str(value)))
    if isinstance(value, str):
        return mask_ids_in_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**14:
        return mask_ids_in_text(str(value))
    return value
