"""The audit log (审计日志): every gateway request, allowed or refused, in a hash chain.

- `gateway.audit.log`: `AuditLog`, the group-committing writer, and `access_log`, the data
  subject's view (who looked at my data, when, for which item).
- `gateway.audit.chain`: the row hash and `verify`, which names altered, inserted and deleted rows.
- `gateway.audit.anchors`: chain heads put on the `audit-anchors` stream, and read back.
- `gateway.audit.errors`: the package's errors.

The API is imported from the submodules.
"""
