"""The audit service. It serves `dealpulse.audit.v1.AuditService` over gRPC (plus
grpc.health.v1 and reflection): `Check` decides, field by field, whether the caller may
write a record in its current state, by the tenant's field-level edit policy (for now
every tenant uses the shipped template SEC-SALES-2026-01); `Record`, queries, exports
and `VerifyChain` over the per-tenant hash-chained audit log; the approvals (workflows
as data in `workflows/`); and the weekly anomaly report. The worker (`python -m
services.audit worker`) records domain changes, chains the log, folds approval events,
escalates overdue steps and publishes the anomaly reports."""
