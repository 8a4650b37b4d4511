"""The connectors' error tree. `retriable` tells the runtime whether to wait and try again
(the source or the log is away) or to dead-letter the record (the record is wrong)."""

from __future__ import annotations

from schemas.errors import GovgateError


class ConnectorError(GovgateError):
    code = "CONNECTOR_ERROR"


class SourceUnavailable(ConnectorError):
    """The department system cannot be read now (down, timing out, 5xx). Retry with backoff."""

    retriable = True
    code = "SOURCE_UNAVAILABLE"


class SourceConfigError(ConnectorError):
    """The connector is configured wrongly (no such table, bad URL, bad folder)."""

    code = "SOURCE_CONFIG"


class RecordError(ConnectorError):
    """One source record cannot become a canonical record; it goes to `dead-letters`.

    `code` is stable per kind of failure (e.g. `MISSING_FIELD`, `UNKNOWN_CODE`,
    `ID_NUMBER_CHECK`); `field` names the source or canonical field; the message names the
    field and the value (personal ids masked).
    """

    def __init__(self, code: str, field: str | None, reason: str) -> None:
        super().__init__(reason, code=code)  # per instance, unlike the class-level codes
        self.field = field
        self.reason = reason


class MappingError(RecordError):
    """The mapping could not produce a record from the source fields."""


class ValidationError(RecordError):
    """The produced record does not fit its schema or carries an invalid identifier."""


class MappingSpecError(ConnectorError):
    """A mapping file is wrong; the message names the file, the line and the field."""

    code = "MAPPING_SPEC"


class RefetchNotSupported(ConnectorError):
    """The source cannot hand back one record by its key (re-drive): a file drop is re-read
    when the corrected file is dropped; an HTTP API has no lookup by key configured."""

    code = "REDRIVE_NOT_SUPPORTED"
