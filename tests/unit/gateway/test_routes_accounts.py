"""Account routes at the edge: master data, the marketing contact, grade change
requests, and a policy denial shown as a 403 problem naming the rule."""

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from dealpulse.actions.v1 import actions_service_pb2 as pb


def policy_denied(*denials: tuple[str, str, str]) -> grpc.aio.AioRpcError:
    details = []
    for field, rule, workflow in denials:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.ErrorInfo(
            reason="POLICY_DENIED", domain="audit.dealpulse",
            metadata={"field": field, "rule_id": rule, "policy_id": "SEC-SALES-2026-01", "policy_version": "1",
                      "approval_workflow": workflow},
        ))
        details.append(detail)
    status = status_pb2.Status(code=7, message="denied", details=details)
    trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(
        grpc.StatusCode.PERMISSION_DENIED, grpc.aio.Metadata(), trailing,
        details=f"{denials[0][0]}: denied by rule {denials[0][1]} (...)",
    )


async def test_a_patch_sends_exactly_the_fields_given(client, actions, auth):
    actions.responses["UpdateAccount"] = pb.UpdateAccountResponse(account=pb.Account(account_id="ruijin", address="1 Bund"))
    reply = await client.patch(
        "/v1/accounts/ruijin", json={"address": "1 Bund", "latitude": 31.2, "longitude": 121.5, "grade": "B"}, headers=auth("rep")
    )
    assert reply.status_code == 200, reply.text
    (call,) = actions.calls
    assert call.request.account_id == "ruijin"
    assert sorted(call.request.update_mask.paths) == ["address", "grade", "latitude", "longitude"]
    assert (call.request.account.address, call.request.account.latitude, call.request.account.grade) == ("1 Bund", 31.2, "B")


async def test_bad_master_data_is_refused_at_the_edge(client, actions, auth):
    for body in ({"grade": "E"}, {"latitude": 91.0}, {"colour": "red"}, {"name": 12}):
        reply = await client.patch("/v1/accounts/ruijin", json=body, headers=auth("rep"))
        assert reply.status_code == 422, body
    assert actions.calls == []


async def test_a_policy_denial_is_a_403_problem_naming_the_rule(client, actions, auth):
    actions.responses["UpdateAccount"] = policy_denied(("grade", "customer-grade-locked-after-win", "customer_grade_change"))
    reply = await client.patch("/v1/accounts/ruijin", json={"grade": "A"}, headers=auth("rep"))
    assert reply.status_code == 403
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert problem["rule_id"] == "customer-grade-locked-after-win"
    assert problem["approval_workflow"] == "customer_grade_change"
    assert problem["policy"] == {"id": "SEC-SALES-2026-01", "version": 1}
    assert problem["errors"] == [
        {"pointer": "#/grade", "detail": "denied by rule customer-grade-locked-after-win", "rule_id": "customer-grade-locked-after-win"}
    ]


async def test_marketing_contact_and_grade_requests_reach_their_rpcs(client, actions, auth):
    actions.responses["RequestGradeChange"] = pb.RequestGradeChangeResponse(
        request=pb.GradeChangeRequest(request_id="grade-1", status="pending", to_grade="A")
    )
    contact = {"marketing_contact_id": "mia", "email": "mia@example.com", "dingtalk_webhook_url": "https://oapi.dingtalk.com/robot/send",
               "dingtalk_secret": "SEC1"}
    assert (await client.put("/v1/accounts/ruijin/marketing-contact", json=contact, headers=auth("manager"))).status_code == 200
    reply = await client.post("/v1/accounts/ruijin/grade-change-requests", json={"grade": "A", "reason": "volume"}, headers=auth("rep"))
    assert reply.status_code == 202 and reply.json()["request"]["request_id"] == "grade-1"
    sent_contact, sent_request = (c.request for c in actions.calls)
    assert (sent_contact.marketing_contact.email, sent_contact.marketing_contact.dingtalk_secret) == ("mia@example.com", "SEC1")
    assert (sent_request.account_id, sent_request.grade, sent_request.reason) == ("ruijin", "A", "volume")
    missing_reason = await client.post("/v1/accounts/ruijin/grade-change-requests", json={"grade": "A"}, headers=auth("rep"))
    assert missing_reason.status_code == 422
