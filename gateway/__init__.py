"""govgate's platform: settings, the event log, the store, the HTTP gateway and the CLI."""

__version__ = "0.1.0"
