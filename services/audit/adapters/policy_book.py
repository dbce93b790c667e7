"""Which `PolicySet` decides for each tenant.

Until tenants can publish policies of their own (publishing, activation and rollback
over the API arrive with their own issue), every tenant adopts the same shipped
template. A tenant's set is built the first time it is asked for and kept: the sets
share the one immutable `Policy`, so a tenant costs a few hundred bytes.
"""

from __future__ import annotations

from services.audit.domain.policies import Policy, PolicySet, adopt_template


class TenantPolicies:
    def __init__(self, template: Policy) -> None:
        self._template = template
        self._sets: dict[str, PolicySet] = {}

    @property
    def template(self) -> Policy:
        return self._template

    def for_tenant(self, tenant_id: str) -> PolicySet:
        policy_set = self._sets.get(tenant_id)
        if policy_set is None:
            policy_set = self._sets[tenant_id] = adopt_template(tenant_id, self._template)
        return policy_set
