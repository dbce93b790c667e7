"""The roles a token may carry. Kept here (not imported from kernel.auth, which pulls
in the JWT library) so the domain stays dependency-free; a unit test keeps the two lists
identical."""

from __future__ import annotations

KNOWN_ROLES: frozenset[str] = frozenset(
    {"rep", "manager", "director", "presales", "delivery", "finance", "marketing", "admin"}
)

# Who reads a tenant's audit log (query, export) and who verifies its chain.
AUDITORS: frozenset[str] = frozenset({"admin", "director", "finance", "manager"})
VERIFIERS: frozenset[str] = frozenset({"admin", "director"})
