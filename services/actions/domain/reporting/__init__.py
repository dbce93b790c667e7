"""Reporting on the sales process, as pure functions over facts and aggregates:

- `calendar`: tenant-local days and ISO weeks, and when the morning and Monday runs fall.
- `expectations`: which mandatory template actions fall due when, and the aggregate
  deltas each opportunity event causes (what the stream adapter keeps in Redis).
- `compliance`: the weekly action-compliance report (per rep and team, red/yellow/green,
  trend, drill-down to each missing action).
- `process_score`: per-rep process score with a configurable weight for action quality.
- `mustdo`: each rep's daily top tasks, ranked with an explanation.
- `followup`: lead follow-up cycle and first-week conversion per team.
"""
