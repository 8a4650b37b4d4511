"""HTTP routers, one module per surface."""
