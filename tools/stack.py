"""Runs Dealpulse's own processes on this machine (`make up` / `make down`, and the
end-to-end tests, which also kill and restart them).

One process per workload, as in Kubernetes: pid files in `.run/pids`, logs in
`.run/logs`. Kafka and Redis are started by `deploy/local/*.sh`, not here.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
RUN = Path(os.environ.get("DEALPULSE_RUN", ROOT / ".run"))


@dataclass(frozen=True)
class Workload:
    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    grpc_port: int | None = None
    http_ready: str | None = None

    def ready(self) -> bool:
        try:
            if self.grpc_port is not None:
                with grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}") as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                    return reply.status == health_pb2.HealthCheckResponse.SERVING
            if self.http_ready is not None:
                with urllib.request.urlopen(self.http_ready, timeout=1) as reply:
                    return reply.status == 200
        except (grpc.RpcError, OSError):
            return False
        return True


def _grpc(name: str, module: str, port: int, *extra: str) -> Workload:
    return Workload(name, ("-m", module, *extra), {"DEALPULSE_GRPC_PORT": str(port)}, grpc_port=port)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "actions",
            ("-m", "services.actions", "grpc"),
            {"DEALPULSE_GRPC_PORT": "50051", "DEALPULSE_AUDIT_ADDR": "127.0.0.1:50055"},
            grpc_port=50051,
        ),
        Workload(
            "actions-worker",
            ("-m", "services.actions", "worker"),
            {"DEALPULSE_FAUST_WEB_PORT": "6066"},
            http_ready="http://127.0.0.1:6066/ready",
        ),
        Workload(
            "actions-reporting",
            ("-m", "services.actions", "reporting"),
            {"DEALPULSE_FAUST_WEB_PORT": "6069"},
            http_ready="http://127.0.0.1:6069/ready",
        ),
        _grpc("handoff", "services.handoff", 50052),
        _grpc("forecast", "services.forecast", 50053),
        _grpc("coaching", "services.coaching", 50054),
        _grpc("audit", "services.audit", 50055, "grpc"),
        Workload(
            "audit-worker",
            ("-m", "services.audit", "worker"),
            {"DEALPULSE_FAUST_WEB_PORT": "6067"},
            http_ready="http://127.0.0.1:6067/ready",
        ),
        _grpc("pulse", "services.pulse", 50056, "grpc"),
        Workload(
            "pulse-worker",
            ("-m", "services.pulse", "worker"),
            {"DEALPULSE_FAUST_WEB_PORT": "6068"},
            http_ready="http://127.0.0.1:6068/ready",
        ),
        Workload(
            "gateway",
            ("-m", "services.gateway"),
            {"DEALPULSE_HTTP_PORT": "8080", "DEALPULSE_ACTIONS_ADDR": "127.0.0.1:50051", "DEALPULSE_AUDIT_ADDR": "127.0.0.1:50055"},
            http_ready="http://127.0.0.1:8080/readyz",
        ),
    )
}


def _pid_file(name: str) -> Path:
    return RUN / "pids" / f"{name}.pid"


def pid_of(name: str) -> int | None:
    try:
        pid = int(_pid_file(name).read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def start(name: str, extra_env: dict[str, str] | None = None) -> None:
    if pid_of(name):
        return
    workload = WORKLOADS[name]
    (RUN / "pids").mkdir(parents=True, exist_ok=True)
    (RUN / "logs").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}",
        "OTEL_SERVICE_NAME": name,
        **workload.env,
        **(extra_env or {}),
    }
    with open(RUN / "logs" / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, *workload.args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    _pid_file(name).write_text(str(process.pid))


def stop(name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    pid = pid_of(name)
    if pid:
        os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_ready(names: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            if not pid_of(name):
                raise RuntimeError(f"{name} exited; see {RUN / 'logs' / (name + '.log')}")
            if WORKLOADS[name].ready():
                pending.remove(name)
        time.sleep(0.3)
    if pending:
        raise RuntimeError(f"not ready after {timeout:.0f}s: {', '.join(pending)} (logs in {RUN / 'logs'})")


def main() -> None:
    parser = argparse.ArgumentParser(description="Start, stop or check Dealpulse's processes.")
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("names", nargs="*", help="default: all")
    args = parser.parse_args()
    names = args.names or list(WORKLOADS)
    if args.command == "start":
        for name in names:
            start(name)
        wait_ready(names)
        print(f"ready: {', '.join(names)}")
    elif args.command == "stop":
        for name in reversed(names):
            stop(name)
    else:
        down = [n for n in names if not (pid_of(n) and WORKLOADS[n].ready())]
        for name in names:
            print(f"{name:15} {'ready' if name not in down else 'DOWN'}")
        sys.exit(1 if down else 0)


if __name__ == "__main__":
    main()
