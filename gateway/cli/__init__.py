"""The `govgate` command line: one module per command group."""

from __future__ import annotations

import click

from gateway import __version__
from gateway.cli import (
    audit,
    call,
    catalogue,
    connect,
    db,
    deadletters,
    governance,
    log,
    members,
    notices,
    publish,
    rebuild,
    schemas,
    subscriptions,
    supervise,
    up,
    users,
)
from gateway.logging_config import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govgate")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def main(verbose: bool) -> None:
    """govgate — 政务数据共享网关, the inter-agency data-sharing gateway.

    Settings come from GOVGATE_* environment variables and the TOML file named by
    GOVGATE_CONFIG. With no GOVGATE_KAFKA_BOOTSTRAP the event log is the SQL log in the
    gateway's own database (SQLite under ./var by default).
    """
    configure_logging(verbose)


main.add_command(up.up)
main.add_command(log.log)
main.add_command(schemas.schemas)
main.add_command(db.db)
main.add_command(connect.connect)
main.add_command(members.keys)
main.add_command(members.members)
members.members.add_command(publish.publish)
members.members.add_command(publish.unpublish)
main.add_command(audit.audit)
main.add_command(rebuild.rebuild)
main.add_command(call.call)
main.add_command(subscriptions.subscriptions)
main.add_command(supervise.supervise)
main.add_command(notices.notices)
main.add_command(catalogue.catalogue)
main.add_command(governance.governance)
main.add_command(deadletters.deadletters)
main.add_command(users.users)
