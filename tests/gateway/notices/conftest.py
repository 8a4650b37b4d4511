from tests.gateway.operations.conftest import world

__all__ = ["world"]
