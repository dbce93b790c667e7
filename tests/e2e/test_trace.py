"""One trace spans the HTTP request, the gRPC call, the Kafka produce and the Faust
agent's processing, across three processes."""

from __future__ import annotations

import time

from tests.e2e.test_slice import open_opportunity

SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER = 2, 3, 4, 5


def test_stage_change_is_one_trace_from_gateway_to_worker(people, otlp):
    bob = people["bob"]
    opportunity = open_opportunity(bob)
    reply = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "qualification"})
    assert reply.status_code == 200

    def chain():
        spans = otlp.spans()
        by_id = {s.span_id: s for s in spans}
        for process in (s for s in spans if s.service == "actions-worker" and s.name == "actions.opportunity.v1 process"):
            path = [process]
            while path[-1].parent_span_id and path[-1].parent_span_id in by_id:
                path.append(by_id[path[-1].parent_span_id])
            root = path[-1]
            if root.service == "gateway" and "/stage" in root.name:
                return list(reversed(path))
        return None

    deadline = time.monotonic() + 30
    found = None
    while found is None and time.monotonic() < deadline:
        found = chain()
        time.sleep(0.3)
    assert found, "no trace reached from the gateway's request to the worker's processing"
    services = [s.service for s in found]
    kinds = [s.kind for s in found]
    assert services[0] == "gateway" and kinds[0] == SPAN_KIND_SERVER
    assert ("gateway", SPAN_KIND_CLIENT) in zip(services, kinds)
    assert ("actions", SPAN_KIND_SERVER) in zip(services, kinds)
    assert ("actions", SPAN_KIND_PRODUCER) in zip(services, kinds)
    assert found[-1].service == "actions-worker"
    assert len({s.trace_id for s in found}) == 1
