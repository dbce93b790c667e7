"""Valid requests for every /v1 route, for tests that spoil one thing at a time."""

from __future__ import annotations

ACCOUNT = {"account_id": "acc-1", "name": "Acme Steel", "industry": "manufacturing"}
OPPORTUNITY = {
    "opportunity_id": "opp-1",
    "account_id": "acc-1",
    "name": "Rolling mill retrofit",
    "amount_cents": 12_500_000,
    "currency": "CNY",
}
ACTION = {"action_id": "act-1", "kind": "call", "call_duration_seconds": 420}

# (method, path, body)
WRITES_BY_ANY_SELLER = [
    ("POST", "/v1/accounts", ACCOUNT),
    ("POST", "/v1/opportunities", OPPORTUNITY),
    ("POST", "/v1/opportunities/opp-1/stage", {"to_stage": "qualification"}),
    ("POST", "/v1/opportunities/opp-1/actions", ACTION),
]
TEAM_WRITES = [
    ("PUT", "/v1/reps/u-rep", {"display_name": "Li Lei", "manager_id": "u-boss"}),
    ("PUT", "/v1/policies/stall", {"threshold_hours": 48}),
]
ADMIN_WRITES = [("POST", "/v1/admin/clock/advance", {"seconds": 3600})]
READS = [
    ("GET", "/v1/accounts/acc-1", None),
    ("GET", "/v1/opportunities/opp-1", None),
    ("GET", "/v1/policies/stall", None),
    ("GET", "/v1/alerts", None),
    ("GET", "/v1/todos", None),
    ("GET", "/v1/alerts/stream", None),
]
EVERY_ROUTE = WRITES_BY_ANY_SELLER + TEAM_WRITES + ADMIN_WRITES + READS
