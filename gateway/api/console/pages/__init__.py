"""The console's pages, one module each (see gateway.api.console.nav)."""
