"""The audit service. It serves `dealpulse.audit.v1.AuditService` over gRPC (plus
grpc.health.v1 and reflection): `Check` decides, field by field, whether the caller may
write a record in its current state, by the tenant's field-level edit policy (for now
every tenant uses the shipped template SEC-SALES-2026-01). The domain also holds the
hash-chained audit log and the approval workflow engine; their APIs (`Record`,
approvals) arrive with their own issues."""
