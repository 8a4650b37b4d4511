"""How govgate's processes log: one format, and the chatty libraries kept at WARNING."""

from __future__ import annotations

import logging


def configure_logging(verbose: bool = False) -> None:
    """INFO (DEBUG when `verbose`) to stderr, one line per record."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for chatty in ("httpx", "aiokafka", "alembic.runtime.migration"):  # one line per request
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose else logging.WARNING)
