"""Every error leaves the gateway as RFC 9457 `application/problem+json`.

Problems use `type: about:blank`, so `title` is the HTTP status phrase and the
status code alone tells a client what class of failure it is; `detail` says what
happened this time, and `errors` lists each offending field of a rejected request.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.rpc import error_details_pb2, status_pb2
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

# How a domain service's verdict reads to an HTTP client. INVALID_ARGUMENT is a
# validation failure of the request's fields, the same class as the gateway's own
# body validation, so both are 422.
HTTP_STATUS_OF_GRPC: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class ProblemDetails(BaseModel):
    """The problem document, for the OpenAPI description."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class Problem(Exception):
    """Raise anywhere in a request to answer with this problem."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.errors = errors
        # RFC 9457 extension members, e.g. the policy rule behind a 403.
        self.extensions = extensions


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "instance": request.url.path,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    if problem.extensions:
        body.update({k: v for k, v in problem.extensions.items() if k not in body})
    return JSONResponse(body, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_MEDIA_TYPE)


def problem_from_grpc(code: grpc.StatusCode, details: str | None) -> Problem:
    """The service's own words become the detail; unexpected codes are our fault (502)."""
    status = HTTP_STATUS_OF_GRPC.get(code)
    if status is None:
        log.error("actions service failed with %s: %s", code.name, details)
        return Problem(502, "the actions service failed to answer")
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return Problem(status, details or None, headers=headers)


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Each error names where it is: a JSON pointer into the body, or the parameter
    or header (the RFC 9457 convention)."""
    found = []
    for error in exc.errors():
        source, *path = error["loc"]
        entry: dict[str, Any] = {"detail": error["msg"]}
        if error["type"] == "json_invalid":
            # The location is a character offset, not a field: point at the document.
            entry = {"detail": f"the body is not JSON: {error['ctx']['error']}", "pointer": "#"}
        elif source == "body":
            entry["pointer"] = "#" + "".join(f"/{_escape_pointer(str(p))}" for p in path)
        elif source == "header":
            entry["header"] = str(path[0])
        else:
            entry["parameter"] = str(path[0]) if path else source
        found.append(entry)
    return found


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


async def _on_problem(request: Request, exc: Problem) -> JSONResponse:
    return problem_response(request, exc)


async def _on_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    return problem_response(request, Problem(exc.status_code, detail, headers=exc.headers))


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problem = Problem(422, "the request is not valid", errors=field_errors(exc))
    return problem_response(request, problem)


async def _on_rpc_error(request: Request, exc: grpc.aio.AioRpcError) -> JSONResponse:
    problem = problem_from_grpc(exc.code(), exc.details())
    if exc.code() is grpc.StatusCode.PERMISSION_DENIED:
        denials = policy_denials(exc)
        if denials:
            first = denials[0]
            problem.extensions = {
                "rule_id": first["rule_id"],
                "policy": {"id": first["policy_id"], "version": first["policy_version"]},
                **({"approval_workflow": first["approval_workflow"]} if first["approval_workflow"] else {}),
            }
            problem.errors = [
                {"pointer": f"#/{d['field']}", "detail": f"denied by rule {d['rule_id']}", "rule_id": d["rule_id"]}
                for d in denials
            ]
    return problem_response(request, problem)


def policy_denials(exc: grpc.aio.AioRpcError) -> list[dict[str, Any]]:
    """The fields an audit policy denied, from the ErrorInfo details the service sent
    (reason POLICY_DENIED): field, rule_id, policy_id, policy_version, approval_workflow."""
    raw = dict(exc.trailing_metadata() or ()).get("grpc-status-details-bin")
    if not raw:
        return []
    denials = []
    for detail in status_pb2.Status.FromString(raw).details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info) and info.reason == "POLICY_DENIED":
            meta = dict(info.metadata)
            denials.append(
                {
                    "field": meta.get("field", ""),
                    "rule_id": meta.get("rule_id", ""),
                    "policy_id": meta.get("policy_id", ""),
                    "policy_version": int(meta.get("policy_version") or 0),
                    "approval_workflow": meta.get("approval_workflow", ""),
                }
            )
    return denials


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback by the server; the client learns nothing internal.
    return problem_response(request, Problem(500))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(grpc.aio.AioRpcError, _on_rpc_error)
    app.add_exception_handler(Exception, _on_unexpected)


def _documented(description: str) -> dict[str, Any]:
    # An inline schema: FastAPI's `model=` would file it under application/json.
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": ProblemDetails.model_json_schema()}}}


# Shared OpenAPI `responses` for the authenticated routes.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("Missing, malformed, expired or foreign bearer token"),
    403: _documented("The caller's roles, or the audit policy (the problem names its `rule_id`), do not allow this"),
    422: _documented("The request is not valid; `errors` lists the fields"),
    503: _documented("A service behind the gateway is unavailable"),
}
