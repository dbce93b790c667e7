"""Activity ingestion: vendor webhooks (DingTalk, WeCom, email), `.eml` and CSV uploads,
WeCom dial records, and each tenant's webhook configuration.

Vendor webhooks carry the tenant in the URL and are authenticated by that tenant's own
secrets (see `services/gateway/webhooks/tenant_config.py`); uploads take a bearer token and
the tenant is the token's. Every route answers the same way to bad input: a bad or missing
signature is 401, a malformed payload 400 `application/problem+json` naming the field, and
neither publishes anything. Activities already published (same tenant, source and source
id) are dropped, so vendor retries and re-imported files change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from services.gateway.adapters.activity_publisher import EventLogUnavailable, activity_id
from services.gateway.api.deps import CurrentPrincipal, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES, Problem, _documented
from services.gateway.domain.permissions import Operation
from services.gateway.webhooks import csv_import, dingtalk, email_events, wecom
from services.gateway.webhooks.model import Activity, MalformedPayload, SignatureInvalid
from services.gateway.webhooks.tenant_config import EmailConfig, TenantWebhooks, from_dict

WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("The payload is malformed; `errors` names the field. Nothing was recorded"),
    401: _documented("Bad, stale or missing signature, or no such webhook configured for the tenant"),
    503: _documented("The event log is unavailable; the vendor should retry"),
}

webhooks = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=WEBHOOK_RESPONSES)
uploads = APIRouter(prefix="/v1/activities", tags=["activities"], responses=PROBLEM_RESPONSES | WEBHOOK_RESPONSES)
config_routes = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)


class IngestResult(BaseModel):
    accepted: int = Field(description="Activities recorded now")
    duplicates: int = Field(description="Activities already recorded earlier (same source id): ignored")
    activity_ids: list[str] = Field(description="Ids of the activities recorded now (the events' ce_id)")


class RowErrorOut(BaseModel):
    row: int = Field(description="Row number as a spreadsheet shows it (the header is row 1)")
    column: str | None
    problem: str


class ImportResult(IngestResult):
    rows: int
    errors: list[RowErrorOut] = Field(description="Rows skipped, with why; the other rows were recorded")


@contextmanager
def _vendor_errors() -> Iterator[None]:
    try:
        yield
    except SignatureInvalid as exc:
        raise Problem(401, f"webhook not authenticated: {exc}") from exc
    except MalformedPayload as exc:
        raise Problem(400, "the payload is malformed; nothing was recorded", errors=[exc.as_problem_error()]) from exc


async def _config(request: Request, tenant_id: str) -> TenantWebhooks:
    config = await request.app.state.webhook_store.config(tenant_id)
    # Unknown tenants and unconfigured vendors look alike: a caller learns nothing.
    return config if config is not None else TenantWebhooks()


async def _now(request: Request):
    # Signatures are fresh against real time: vendors sign with their wall clock.
    return await request.app.state.wall_clock.now()


async def _record(request: Request, activities: Sequence[Activity]) -> IngestResult:
    store = request.app.state.webhook_store
    fresh, duplicates = await store.unseen(activities)
    if fresh:
        try:
            await request.app.state.activities.publish(fresh, await _now(request))
        except EventLogUnavailable as exc:
            raise Problem(503, f"{exc}; retry later", headers={"Retry-After": "5"}) from exc
        await store.remember(fresh)
    return IngestResult(accepted=len(fresh), duplicates=duplicates, activity_ids=[activity_id(a) for a in fresh])


def _raw_body(media_type: str, description: str) -> dict[str, Any]:
    schema = {"type": "string"} if media_type.startswith(("text/", "message/", "application/xml")) else {"type": "object"}
    return {"requestBody": {"required": True, "description": description, "content": {media_type: {"schema": schema}}}}


# ------------------------------------------------------------------ vendor webhooks


@webhooks.post(
    "/dingtalk/{tenant_id}",
    summary="DingTalk event subscription (attendance check-ins)",
    openapi_extra=_raw_body("application/json", '`{"encrypt": "<AES ciphertext>"}`, signed in the query string'),
)
async def dingtalk_callback(
    request: Request,
    tenant_id: str,
    signature: Annotated[str | None, Query()] = None,
    msg_signature: Annotated[str | None, Query()] = None,
    timestamp: Annotated[str | None, Query()] = None,
    nonce: Annotated[str | None, Query()] = None,
) -> dict[str, str]:
    """Verifies `msg_signature` (or `signature`) = SHA-1 of sorted(token, timestamp, nonce,
    encrypt) with the tenant's DingTalk token, decrypts with its aes_key (receiver id = one
    of its corp ids / suite keys), records `attendance_check_record` punches as check-in /
    check-out activities and answers the encrypted `success` ack DingTalk expects."""
    config = (await _config(request, tenant_id)).dingtalk
    if config is None:
        raise Problem(401, "webhook not authenticated: DingTalk is not configured for this tenant")
    query = {k: v for k, v in {"signature": signature, "msg_signature": msg_signature,
                               "timestamp": timestamp, "nonce": nonce}.items() if v is not None}
    now = await _now(request)
    with _vendor_errors():
        result = dingtalk.handle(config, tenant_id, query, await request.body(), now)
    await _record(request, result.activities)
    return dingtalk.ack(config, now)


@webhooks.get("/wecom/{tenant_id}", summary="WeCom callback URL verification", response_class=PlainTextResponse)
async def wecom_verify_url(
    request: Request,
    tenant_id: str,
    msg_signature: Annotated[str | None, Query()] = None,
    timestamp: Annotated[str | None, Query()] = None,
    nonce: Annotated[str | None, Query()] = None,
    echostr: Annotated[str | None, Query()] = None,
) -> PlainTextResponse:
    """Answers the decrypted `echostr` when the signature checks out."""
    config = (await _config(request, tenant_id)).wecom
    if config is None:
        raise Problem(401, "webhook not authenticated: WeCom is not configured for this tenant")
    query = {k: v for k, v in {"msg_signature": msg_signature, "timestamp": timestamp,
                               "nonce": nonce, "echostr": echostr}.items() if v is not None}
    with _vendor_errors():
        plain = wecom.verify_url(config, query, await _now(request))
    return PlainTextResponse(plain.decode("utf-8", errors="replace"))


@webhooks.post(
    "/wecom/{tenant_id}",
    summary="WeCom callback (external-contact events)",
    response_class=PlainTextResponse,
    openapi_extra=_raw_body("application/xml", "`<xml><ToUserName/><AgentID/><Encrypt/></xml>`, signed in the query"),
)
async def wecom_callback(
    request: Request,
    tenant_id: str,
    msg_signature: Annotated[str | None, Query()] = None,
    timestamp: Annotated[str | None, Query()] = None,
    nonce: Annotated[str | None, Query()] = None,
) -> PlainTextResponse:
    """Verifies and decrypts the message with the tenant's WeCom token and EncodingAESKey;
    `change_external_contact` events become external-contact activities. Other events are
    acknowledged (empty 200, as WeCom expects) and recorded nowhere."""
    config = (await _config(request, tenant_id)).wecom
    if config is None:
        raise Problem(401, "webhook not authenticated: WeCom is not configured for this tenant")
    query = {k: v for k, v in {"msg_signature": msg_signature, "timestamp": timestamp,
                               "nonce": nonce}.items() if v is not None}
    with _vendor_errors():
        result = wecom.handle(config, tenant_id, query, await request.body(), await _now(request))
    await _record(request, result.activities)
    return PlainTextResponse("")


@webhooks.post(
    "/email/{tenant_id}",
    summary="Email metadata webhook",
    response_model=IngestResult,
    openapi_extra=_raw_body("application/json", "One message's metadata (see services/gateway/webhooks/email_events.py)"),
)
async def email_webhook(request: Request, tenant_id: str) -> IngestResult:
    """Header `X-Dealpulse-Signature: sha256=<hex>` = HMAC-SHA256 over
    `"<X-Dealpulse-Timestamp>." + body` with the tenant's email secret; the timestamp (epoch
    seconds) must be within 5 minutes. Without `rep_id` in the body, the rep is the mailbox
    owner from the tenant's `address_map` (sender of outbound, recipients of inbound mail)."""
    config = (await _config(request, tenant_id)).email
    if config is None:
        raise Problem(401, "webhook not authenticated: the email webhook is not configured for this tenant")
    body = await request.body()
    with _vendor_errors():
        email_events.verify_hmac(
            config.secret,
            body,
            request.headers.get("x-dealpulse-signature"),
            request.headers.get("x-dealpulse-timestamp"),
            await _now(request),
        )
        activity = email_events.webhook_activity(tenant_id, body)
    return await _record(request, [_with_mailbox_owner(activity, config)])


def _with_mailbox_owner(activity: Activity, config: EmailConfig) -> Activity:
    if activity.rep_id:
        return activity
    details = activity.details
    mailboxes = [details["from"]] if activity.kind == "email_sent" else [*details["to"], *details["cc"]]
    rep = config.rep_for(mailboxes)
    if rep is None:
        return activity
    return replace(activity, rep_id=rep)


# ------------------------------------------------------------------ authenticated uploads


@uploads.post(
    "/eml",
    summary="Upload one .eml file",
    response_model=IngestResult,
    dependencies=[authorize(Operation.WRITE_PIPELINE)],
    openapi_extra=_raw_body("message/rfc822", "The raw RFC 5322 message (max 25 MiB)"),
)
async def upload_eml(
    request: Request,
    principal: CurrentPrincipal,
    direction: Annotated[Literal["inbound", "outbound"] | None, Query()] = None,
    rep_id: Annotated[str | None, Query(min_length=1)] = None,
    customer_id: Annotated[str | None, Query(min_length=1)] = None,
    opportunity_id: Annotated[str | None, Query(min_length=1)] = None,
    lead_id: Annotated[str | None, Query(min_length=1)] = None,
) -> IngestResult:
    """Direction: the query, else outbound when the sender's domain is one of the tenant's
    `own_domains`. Rep: the query, else the mailbox owner (`address_map`), else the caller."""
    config = (await _config(request, principal.tenant)).email
    with _vendor_errors():
        activity = email_events.eml_activity(
            principal.tenant,
            await request.body(),
            own_domains=config.own_domains if config else (),
            direction=direction,
            rep_id=rep_id,
            customer_id=customer_id,
            opportunity_id=opportunity_id,
            lead_id=lead_id,
        )
    if config is not None:
        activity = _with_mailbox_owner(activity, config)
    if not activity.rep_id:
        activity = replace(activity, rep_id=principal.subject)
    return await _record(request, [activity])


@uploads.post(
    "/wecom-dial-records",
    summary="WeCom dial records (call activities)",
    response_model=IngestResult,
    dependencies=[authorize(Operation.WRITE_PIPELINE)],
    openapi_extra=_raw_body("application/json", "The body of WeCom's /cgi-bin/dial/get_dial_record answer"),
)
async def upload_dial_records(request: Request, principal: CurrentPrincipal) -> IngestResult:
    """WeCom does not push call records; the tenant's poller pulls them from WeCom (it
    authenticates to WeCom) and posts the answer here unchanged. Callers map to reps
    through the tenant's WeCom `user_map`."""
    config = (await _config(request, principal.tenant)).wecom
    with _vendor_errors():
        activities = wecom.dial_record_activities(
            principal.tenant, await request.body(), config.user_map if config else None
        )
    return await _record(request, activities)


@uploads.post(
    "/csv",
    summary="CSV backfill of historical activities",
    response_model=ImportResult,
    dependencies=[authorize(Operation.WRITE_PIPELINE)],
    openapi_extra=_raw_body("text/csv", "Header row, then one activity per row (see services/gateway/webhooks/csv_import.py)"),
)
async def import_csv(request: Request, principal: CurrentPrincipal) -> ImportResult:
    """Columns: source, source_id, rep_id, kind (visit|call|email|note), occurred_at (RFC
    3339 with offset) required; customer_id, opportunity_id, lead_id, duration_minutes,
    latitude, longitude, address, note optional. Bad rows are listed in `errors` and skipped;
    a bad header or file is 400 and records nothing."""
    with _vendor_errors():
        report = csv_import.import_csv(principal.tenant, await request.body(), await _now(request))
    recorded = await _record(request, report.accepted)
    return ImportResult(
        **recorded.model_dump(),
        rows=report.rows,
        errors=[RowErrorOut(row=e.row, column=e.column, problem=e.problem) for e in report.errors],
    )


# ------------------------------------------------------------------ configuration


class DingTalkSettings(BaseModel):
    token: str = Field(min_length=1, description="The callback token set in the DingTalk console")
    aes_key: str = Field(min_length=43, max_length=43, description="The 43-character aes_key")
    receiver_ids: list[str] = Field(min_length=1, description="Your corpId (or suiteKey for a third-party app)")
    user_map: dict[str, str] = Field(default_factory=dict, description="DingTalk userId → rep id")


class WeComSettings(BaseModel):
    token: str = Field(min_length=1)
    encoding_aes_key: str = Field(min_length=43, max_length=43)
    receiver_ids: list[str] = Field(min_length=1, description="Your corp id (or suite id)")
    user_map: dict[str, str] = Field(default_factory=dict, description="WeCom UserID → rep id")


class EmailSettings(BaseModel):
    secret: str = Field(min_length=16, description="HMAC-SHA256 secret shared with the mail relay")
    own_domains: list[str] = Field(default_factory=list, description="Mail from these domains is outbound")
    address_map: dict[str, str] = Field(default_factory=dict, description="Mailbox address → rep id")


class WebhookSettings(BaseModel):
    """Which vendors may push for the tenant; a vendor left out is refused (401)."""

    dingtalk: DingTalkSettings | None = None
    wecom: WeComSettings | None = None
    email: EmailSettings | None = None


@config_routes.put("/config", dependencies=[authorize(Operation.MANAGE_TEAM)])
async def put_webhook_config(body: WebhookSettings, request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """Replace the tenant's webhook configuration (secrets included). The answer shows the
    stored configuration with every secret as `***`."""
    try:
        config = from_dict(body.model_dump(exclude_none=True))
    except ValueError as exc:
        raise Problem(422, "the webhook configuration is not valid", errors=[{"detail": str(exc), "pointer": "#"}]) from exc
    await request.app.state.webhook_store.put_config(principal.tenant, config)
    return config.redacted()


@config_routes.get("/config", dependencies=[authorize(Operation.MANAGE_TEAM)])
async def get_webhook_config(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """The tenant's webhook configuration, secrets as `***`."""
    return (await _config(request, principal.tenant)).redacted()


routers = (webhooks, uploads, config_routes)
