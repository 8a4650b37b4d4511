"""Members (成员单位): the systems that call the gateway, their roles, keys and grants.

`keys` generates and reads key pairs and derives key ids; `tables` and `store` keep members,
keys, grants and used nonces in the gateway's database. This module imports nothing, so
`gateway.members.keys` (used by the client and by `gateway.signatures`) does not pull in the
database layer; the package's errors are in `gateway.members.errors`.
"""
