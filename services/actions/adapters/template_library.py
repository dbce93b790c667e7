"""The templates a tenant may use: the shipped ones (loaded from
services/actions/templates/ at start, a bad file stops the start with its errors) and
the tenant's own published versions from the projection."""

from __future__ import annotations

import hashlib

from kernel.auth import ROLES
from services.actions.adapters.read_models import ActionsReadModel
from services.actions.domain.templates import Template, TemplateCatalogue, load_catalogue, load_template


def template_entity_name(template_id: str, version: int) -> str:
    return f"{template_id}@v{version}"


class TemplateLibrary:
    def __init__(self, read_model: ActionsReadModel, shipped: TemplateCatalogue | None = None) -> None:
        self._read_model = read_model
        self._shipped = shipped if shipped is not None else load_catalogue(known_roles=ROLES)
        # Parsed tenant documents by content hash: a published version never changes.
        self._parsed: dict[str, Template] = {}

    @property
    def shipped(self) -> TemplateCatalogue:
        return self._shipped

    def _parse(self, document_yaml: str) -> Template:
        digest = hashlib.sha256(document_yaml.encode()).hexdigest()
        template = self._parsed.get(digest)
        if template is None:
            template = load_template(document_yaml, "published tenant template", known_roles=ROLES)
            self._parsed[digest] = template
        return template

    async def catalogue(self, tenant: str) -> TemplateCatalogue:
        own = [self._parse(doc) for doc in await self._read_model.tenant_template_documents(tenant)]
        return TemplateCatalogue((*self._shipped, *own))
