"""The end-to-end stack: every Dealpulse process started for real against the real
Kafka and Redis that `make test` brought up, with the adjustable clock and spans
exported to an in-memory receiver."""

from __future__ import annotations

import fcntl
import uuid

import httpx
import pytest

from kafka import KafkaConsumer, TopicPartition
from kernel.auth import mint_token
from kernel.config import Settings
from tests.e2e.otlp_receiver import InMemoryOtlpReceiver
from tools import stack

GATEWAY = "http://127.0.0.1:8080"


@pytest.fixture(scope="session")
def otlp() -> InMemoryOtlpReceiver:
    receiver = InMemoryOtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


def stack_env(otlp: InMemoryOtlpReceiver) -> dict[str, str]:
    return {
        "DEALPULSE_CLOCK": "adjustable",
        "DEALPULSE_ENVIRONMENT": "test",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp.port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


@pytest.fixture(scope="session")
def services(otlp, settings):
    # Benchmarks start the same workloads on the same ports: take turns.
    lock = open("/tmp/dealpulse-stack.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    running = [name for name in stack.WORKLOADS if stack.pid_of(name)]
    if running:
        pytest.fail(f"stop the running stack first (make down): {', '.join(running)} are up")
    env = stack_env(otlp)
    try:
        for name in stack.WORKLOADS:
            stack.start(name, env)
        stack.wait_ready(list(stack.WORKLOADS), timeout=180)
        yield env
    finally:
        for name in reversed(list(stack.WORKLOADS)):
            stack.stop(name)
        lock.close()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


class Client:
    """A gateway client holding one person's token."""

    def __init__(self, settings: Settings, tenant: str, subject: str, roles: list[str]) -> None:
        self.subject = subject
        self.token = mint_token(settings, subject=subject, tenant=tenant, roles=roles)
        self.http = httpx.Client(base_url=GATEWAY, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def __getattr__(self, name):
        return getattr(self.http, name)


@pytest.fixture
def people(services, settings, tenant):
    """A manager (ann), a rep reporting to her (bob) and an admin, in a fresh tenant."""

    def person(subject: str, *roles: str) -> Client:
        return Client(settings, tenant, subject, list(roles))

    ann, bob, admin = person("ann", "manager"), person("bob", "rep"), person("root", "admin")
    reply = ann.put("/v1/reps/bob", json={"display_name": "Bob", "manager_id": "ann"})
    assert reply.status_code == 200, reply.text
    return {"ann": ann, "bob": bob, "admin": admin, "person": person}


def end_offsets(settings: Settings, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def records_with_key(settings: Settings, topic: str, key: str) -> list:
    """Every record of a topic with that key, read from the beginning."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        found = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                found.extend(r for r in batch if r.key == key.encode())
        return found
    finally:
        consumer.close()
