"""Translation between the REST representation and the actions service's protobuf
messages, in both directions; the only module that knows both shapes.

JSON follows the proto3 JSON mapping (field names as in the .proto, RFC 3339
timestamps) with two changes for REST clients: enum values are their short lowercase
names (`ACTION_KIND_CALL` → `call`), and 64-bit integers are JSON numbers, not strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from dealpulse.actions.v1 import actions_service_pb2 as pb
from dealpulse.actions.v1 import events_pb2
from services.gateway.api.schemas import (
    ChangeStageBody,
    CreateAccountBody,
    GradeChangeBody,
    MarketingContactBody,
    UpdateAccountBody,
    OpenOpportunityBody,
    RecordActionBody,
    RegisterRepBody,
    StallPolicyBody,
    TenantPolicyPatch,
)

SECONDS_PER_HOUR = 3600
_INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


# --- protobuf → JSON ---------------------------------------------------------------


def message_json(message: Message) -> dict[str, Any]:
    # Fields without presence are always printed, so `valid: false` is not omitted.
    data = MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    _restyle(message.DESCRIPTOR, data)
    return data


def stall_policy_json(policy: events_pb2.StallPolicy) -> dict[str, Any]:
    """The proto stores seconds; clients set hours. Give both."""
    return {
        "threshold_seconds": policy.threshold_seconds,
        "threshold_hours": policy.threshold_seconds / SECONDS_PER_HOUR,
    }


def _restyle(descriptor: Descriptor, data: dict[str, Any]) -> None:
    for field in descriptor.fields:
        if field.name not in data:
            continue
        value = data[field.name]
        if field.enum_type is not None:
            data[field.name] = _map(value, partial(_short_enum_name, field.enum_type))
        elif field.type in _INT64_TYPES:
            data[field.name] = _map(value, int)
        elif field.message_type is not None:
            # Well-known types (Timestamp) are already rendered as strings: skip them.
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    _restyle(field.message_type, item)


def _map(value: Any, convert: Callable[[Any], Any]) -> Any:
    return [convert(v) for v in value] if isinstance(value, list) else convert(value)


def _short_enum_name(enum: EnumDescriptor, name: str | int) -> str | int:
    # An unknown enum number (a newer server) arrives as an int: pass it through.
    if isinstance(name, int):
        return name
    return name.removeprefix(_enum_prefix(enum)).lower()


def _enum_prefix(enum: EnumDescriptor) -> str:
    """`ActionKind` → `ACTION_KIND_`, the buf-style prefix of every value."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


# --- JSON → protobuf ---------------------------------------------------------------


def create_account_request(body: CreateAccountBody) -> pb.CreateAccountRequest:
    # Omitted optionals stay proto defaults ("") and the service applies its defaults.
    return pb.CreateAccountRequest(**body.model_dump(exclude_none=True))


def update_account_request(account_id: str, body: UpdateAccountBody) -> pb.UpdateAccountRequest:
    """Every field the body sets goes into the mask; a null is "leave it" (the body's
    fields are all optional), never "clear it" — clear a text field with ""."""
    changed = sorted(name for name in body.model_fields_set if getattr(body, name) is not None)
    request = pb.UpdateAccountRequest(account_id=account_id)
    for name in changed:
        setattr(request.account, name, getattr(body, name))
    request.update_mask.paths.extend(changed)
    return request


def set_marketing_contact_request(account_id: str, body: MarketingContactBody) -> pb.SetMarketingContactRequest:
    return pb.SetMarketingContactRequest(
        account_id=account_id, marketing_contact=pb.MarketingContact(**body.model_dump(exclude_none=True))
    )


def request_grade_change_request(account_id: str, body: GradeChangeBody) -> pb.RequestGradeChangeRequest:
    return pb.RequestGradeChangeRequest(account_id=account_id, grade=body.grade, reason=body.reason)


def register_rep_request(rep_id: str, body: RegisterRepBody) -> pb.RegisterRepRequest:
    return pb.RegisterRepRequest(rep_id=rep_id, **body.model_dump(exclude_none=True))


def set_stall_policy_request(body: StallPolicyBody) -> pb.SetStallPolicyRequest:
    # Whole seconds, never zero: a tiny positive threshold must not disable the breaker.
    seconds = max(1, round(body.threshold_hours * SECONDS_PER_HOUR))
    return pb.SetStallPolicyRequest(stall=events_pb2.StallPolicy(threshold_seconds=seconds))


def update_tenant_policy_request(body: TenantPolicyPatch) -> pb.UpdateTenantPolicyRequest:
    changed = sorted(name for name in body.model_fields_set if getattr(body, name) is not None)
    request = pb.UpdateTenantPolicyRequest()
    for name in changed:
        value = getattr(body, name)
        if isinstance(value, dict):
            getattr(request.policy, name).update(value)
        else:
            setattr(request.policy, name, value)
    request.update_mask.paths.extend(changed)
    return request


def open_opportunity_request(body: OpenOpportunityBody) -> pb.OpenOpportunityRequest:
    return pb.OpenOpportunityRequest(**body.model_dump(exclude_none=True))


def change_stage_request(opportunity_id: str, body: ChangeStageBody) -> pb.ChangeStageRequest:
    return pb.ChangeStageRequest(
        opportunity_id=opportunity_id, to_stage=body.to_stage, override_reason=body.override_reason or ""
    )


def record_action_request(opportunity_id: str, body: RecordActionBody) -> pb.RecordActionRequest:
    fields = body.model_dump(exclude_none=True, exclude={"kind", "occurred_at", "submission"})
    request = pb.RecordActionRequest(opportunity_id=opportunity_id, **fields)
    if body.kind is not None:
        request.kind = events_pb2.ActionKind.Value(_enum_prefix(events_pb2.ActionKind.DESCRIPTOR) + body.kind.upper())
    if body.submission is not None:
        sub = body.submission
        request.submission.form.update(sub.form)
        for name, entries in sub.items.items():
            request.submission.items[name].items.extend(entries)
        for a in sub.attachments:
            request.submission.attachments.add(**a.model_dump(exclude_none=True))
        request.submission.activity_ids.extend(sub.activity_ids)
        request.submission.approval_ids.extend(sub.approval_ids)
        if not (sub.form or sub.items or sub.attachments or sub.activity_ids or sub.approval_ids):
            request.submission.SetInParent()
    if body.occurred_at is not None:
        request.occurred_at.FromDatetime(body.occurred_at)
    return request
