"""`python -m services.audit` as its own process on real Kafka and Redis: it serves
health, answers approvals, and on SIGTERM reports NOT_SERVING, drains and exits 0; a
bad workflow document stops start-up naming the file, key and reason."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import audit_service_pb2_grpc
from kernel.auth import mint_token
from kernel.config import Settings
from kernel.grpc_server import bearer_metadata

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
SECRET = "integration-test-secret-of-32-bytes!"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}",
        "DEALPULSE_ENVIRONMENT": "test",
        "DEALPULSE_JWT_SECRET": SECRET,
        "DEALPULSE_GRPC_PORT": str(port),
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    return env


def _status(port: int) -> int | None:
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1).status
    except grpc.RpcError:
        return None


def test_the_server_serves_until_sigterm_then_drains_and_exits_cleanly(tmp_path):
    port = _free_port()
    log = (tmp_path / "audit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.audit", "grpc"], cwd=ROOT, env=_environment(port),
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(port) != health_pb2.HealthCheckResponse.SERVING:
            assert process.poll() is None, (tmp_path / "audit.log").read_text()
            assert time.monotonic() < deadline, "the server never reported SERVING"
            time.sleep(0.2)
        token = mint_token(Settings(environment="test", jwt_secret=SECRET), subject="bob", tenant="serve-test", roles=["rep"])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = audit_service_pb2_grpc.AuditServiceStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                stub.SubmitApproval(pb.SubmitApprovalRequest(request_id="r1", workflow="nope"), metadata=bearer_metadata(token), timeout=10)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_a_bad_workflow_document_stops_start_up_naming_file_key_and_reason(tmp_path):
    shipped = (ROOT / "services/audit/workflows/customer_grade_change.v1.yaml").read_text()
    (tmp_path / "customer_grade_change.v1.yaml").write_text(shipped.replace("deadline: 24h", "deadline: tomorrow", 1))
    # The module reads its workflows from WORKFLOWS_DIR; point it at the broken copy.
    script = (
        "import runpy, sys; from pathlib import Path; import services.audit.domain.workflows as workflows; "
        "workflows.WORKFLOWS_DIR = Path(sys.argv.pop(1)); "
        "workflows.load_workflows.__defaults__ = (workflows.WORKFLOWS_DIR,); "
        "runpy.run_module('services.audit', run_name='__main__')"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, env=_environment(_free_port()),
        capture_output=True, text=True, timeout=60,
    )
    assert finished.returncode == 1
    assert "cannot start: bad workflow document" in finished.stderr
    assert "customer_grade_change.v1.yaml:" in finished.stderr and "stages[0].step.deadline" in finished.stderr
