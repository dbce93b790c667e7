"""Industry action templates: the shipped ones and the tenant's own copies and versions;
and the stage-dwell overview measured against them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import CopyTemplateBody
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1", tags=["templates"], responses=PROBLEM_RESPONSES)
_managers = [authorize(Operation.MANAGE_TEAM)]


@router.get("/templates")
async def list_templates(actions: ActionsClient) -> dict[str, Any]:
    response = await actions.call("ListTemplates", pb.ListTemplatesRequest())
    return {"templates": [mapping.message_json(t) for t in response.templates]}


@router.get("/templates/{template_id}")
async def get_template(template_id: str, actions: ActionsClient, version: int = 0) -> dict[str, Any]:
    """The newest version, or `?version=N`; `document` is the template in its file format."""
    response = await actions.call("GetTemplate", pb.GetTemplateRequest(template_id=template_id, version=version))
    return mapping.message_json(response)


@router.post("/templates/{template_id}/copy", status_code=201, dependencies=_managers)
async def copy_template(template_id: str, body: CopyTemplateBody, actions: ActionsClient) -> dict[str, Any]:
    """Copy a template into the tenant's namespace (version 1 of `<tenant>.<id>`)."""
    request = pb.CopyTemplateRequest(
        source_template_id=template_id, source_version=body.source_version or 0, template_id=body.template_id or ""
    )
    return mapping.message_json(await actions.call("CopyTemplate", request))


@router.post("/templates/{template_id}/versions", status_code=201, dependencies=_managers)
async def publish_template_version(
    template_id: str, actions: ActionsClient, document: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    """Publish the customised next version of one of the tenant's templates: the whole
    document as GET returns it, with `version` one higher. Errors name the key path."""
    if document.get("id") != template_id:
        document = {**document, "id": document.get("id", template_id)}
    request = pb.PublishTemplateVersionRequest()
    request.document.update(document)
    return mapping.message_json(await actions.call("PublishTemplateVersion", request))


@router.get("/dwell/flags", dependencies=_managers)
async def dwell_flags(actions: ActionsClient) -> dict[str, Any]:
    """Open opportunities and teams whose stage dwell exceeds the tenant's factor
    (2.3x the template benchmark by default)."""
    return mapping.message_json(await actions.call("ListDwellFlags", pb.ListDwellFlagsRequest()))
