"""Errors of governance actions; each names the field (and value) at fault."""

from __future__ import annotations

from schemas.errors import GovgateError


class GovernanceError(GovgateError):
    code = "GOVERNANCE_ERROR"


class InvalidApplication(GovernanceError):
    """An application that is malformed: a purpose code, a field, a duration (names which)."""

    code = "INVALID_APPLICATION"


class InvalidPurpose(InvalidApplication):
    code = "INVALID_PURPOSE"


class UnknownField(InvalidApplication):
    """Fields the resource does not have."""

    code = "UNKNOWN_FIELD"


class OwnResource(GovernanceError):
    """A member of the providing department applying for its own department's data."""

    code = "OWN_RESOURCE"


class NotShareable(GovernanceError):
    """An application for a 不予共享 resource: refused, citing its legal basis."""

    code = "NOT_SHAREABLE"


class NotYourDecision(GovernanceError):
    """A decision (or grant change) by a member of a department that does not own this step."""

    code = "NOT_YOUR_DECISION"


class DepartmentRequired(GovernanceError):
    """A member without a department acting where a department is needed."""

    code = "DEPARTMENT_REQUIRED"


class ReasonRequired(GovernanceError):
    """A refusal, narrowing, suspension or revocation without a reason."""

    code = "REASON_REQUIRED"


class InvalidDecision(GovernanceError):
    """A decision that does not fit the step (APPROVE at the bureau, a field not applied for)."""

    code = "INVALID_DECISION"


class StepClosed(GovernanceError):
    """A decision on an application that is not waiting for it (decided, or at another step)."""

    code = "STEP_CLOSED"


class UnknownApplication(GovernanceError):
    code = "UNKNOWN_APPLICATION"


class UnknownGrant(GovernanceError):
    code = "UNKNOWN_GRANT"


class GrantNotActive(GovernanceError):
    """A change a grant's state does not allow (reinstating a revoked grant, …)."""

    code = "GRANT_NOT_ACTIVE"


class KindNotGrantable(GovernanceError):
    """A resource kind the grants cannot express yet (case events: see issue #13 item 8)."""

    code = "KIND_NOT_GRANTABLE"


class NotForYourRole(GovernanceError):
    """A person whose console role may not take this action (deny by default): only the data
    bureau's operators check compliance, only a department's officers publish and decide."""

    code = "NOT_FOR_YOUR_ROLE"
