"""The HTTP edge: the FastAPI app and everything between a request and the domain packages.

`app` wires routers, the lifespan and the middleware; `services` is what the lifespan opens;
`auth`/`caller` authenticate, `policy` decides who may see what, `inputs` checks parameters,
`audit_and_sign` audits and signs every response, `problems` turns errors into RFC 9457
problem details; `routes/` has one router per surface; `workers` runs several processes.
"""
