"""`govgate up`: start everything that runs in the gateway process."""

from __future__ import annotations

import click
import uvicorn

from gateway.app import create_app
from gateway.settings import Settings


@click.command()
@click.option("--host", help="Address to listen on (default: gateway.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: gateway.port, 8080).")
def up(host: str | None, port: int | None) -> None:
    """Start the gateway on the configured store and log; serves /healthz and /readyz."""
    settings = Settings()
    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.gateway.host,
        port=settings.gateway.port if port is None else port,
        log_config=None,  # keep the logging set up by `govgate`
        proxy_headers=False,
        server_header=False,
    )
    uvicorn.Server(config).run()
