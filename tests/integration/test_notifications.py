"""The outbox against real Redis, delivering to a local WeCom/DingTalk stand-in and a
local SMTP server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import uuid

import httpx
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from kernel.notifications import Channel, ChannelSenders, Notification, RedisOutbox
from kernel.notifications.channels import SmtpSettings

pytestmark = pytest.mark.infra


class Robots:
    """One local HTTP server playing both group robots; checks DingTalk signatures."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.fail_next = 0
        self.errcode = 0
        self.secret = "SECtest"

    async def wecom(self, request: web.Request) -> web.Response:
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503)
        assert request.query["key"] == "robot-key"
        self.received.append(("wecom", await request.json()))
        return web.json_response({"errcode": self.errcode, "errmsg": "ok" if not self.errcode else "invalid webhook url"})

    async def dingtalk(self, request: web.Request) -> web.Response:
        ts = request.query["timestamp"]
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256).digest()).decode()
        if request.query.get("sign") != expected:
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        self.received.append(("dingtalk", await request.json()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def robots():
    state = Robots()
    app = web.Application()
    app.router.add_post("/cgi-bin/webhook/send", state.wecom)
    app.router.add_post("/robot/send", state.dingtalk)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    yield state
    await runner.cleanup()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    box = Mailbox()
    # aiosmtpd's start-up self-check connects to the configured port, so it cannot be 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
async def outbox(redis):
    name = f"test-{uuid.uuid4().hex[:8]}"
    box = RedisOutbox(redis, name, base_delay_seconds=0.0, max_attempts=3, lease_seconds=0.2)
    yield box
    keys = [k async for k in redis.scan_iter(f"dealpulse:notify:{{{name}}}*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def senders(smtp):
    async with httpx.AsyncClient(timeout=5) as http:
        yield ChannelSenders(http, SmtpSettings(port=smtp.port, sender="dealpulse@example.com"))


def wecom(robots, nid="n1"):
    return Notification(
        notification_id=nid, tenant_id="acme", channel=Channel.WECOM, title="今日必做", body="1. call",
        webhook_url=f"{robots.base}/cgi-bin/webhook/send?key=robot-key", mention_user_ids=("bob",),
    )


async def drain(outbox, senders, rounds=5):
    for _ in range(rounds):
        await outbox.deliver_once(senders, block_ms=None)


async def test_each_channel_delivers_once_even_when_enqueued_twice(outbox, senders, robots, smtp):
    ding = Notification(
        notification_id="n2", tenant_id="acme", channel="dingtalk", title="Must-do", body="1. call",
        webhook_url=f"{robots.base}/robot/send?access_token=tok", signing_secret=robots.secret, mention_user_ids=("bob",),
    )
    mail = Notification(notification_id="n3", tenant_id="acme", channel="email", title="Weekly report", body="82 %",
                        recipients=("ann@example.com",))
    assert await outbox.enqueue(wecom(robots)) is True
    assert await outbox.enqueue(wecom(robots)) is False
    assert await outbox.enqueue(ding) and await outbox.enqueue(mail)
    await drain(outbox, senders)
    kinds = [k for k, _ in robots.received]
    assert sorted(kinds) == ["dingtalk", "wecom"]
    assert dict(robots.received)["wecom"]["msgtype"] == "markdown"
    assert dict(robots.received)["dingtalk"]["at"]["atUserIds"] == ["bob"]
    assert len(smtp.messages) == 1 and smtp.messages[0].rcpt_tos == ["ann@example.com"]
    assert b"Subject: Weekly report" in smtp.messages[0].content
    for nid in ("n1", "n2", "n3"):
        assert await outbox.status(nid) == "delivered"
    # Accepted again after delivery: still not sent twice.
    assert await outbox.enqueue(wecom(robots)) is False


async def test_a_receiver_that_is_down_is_retried_until_it_answers(outbox, senders, robots):
    robots.fail_next = 2
    await outbox.enqueue(wecom(robots))
    await drain(outbox, senders)
    assert len(robots.received) == 1
    assert await outbox.status("n1") == "delivered"


async def test_permanent_and_exhausted_failures_are_dead_lettered_with_the_reason(outbox, senders, robots):
    robots.errcode = 93000  # invalid webhook url: never retried
    await outbox.enqueue(wecom(robots, "bad-key"))
    await drain(outbox, senders)
    robots.errcode = 0
    robots.fail_next = 10
    await outbox.enqueue(wecom(robots, "down"))
    await drain(outbox, senders, rounds=6)
    dead = {d.notification_id: d for d in await outbox.dead_letters()}
    assert dead["bad-key"].attempts == 1 and "93000" in dead["bad-key"].reason
    assert dead["down"].attempts == 3 and "503" in dead["down"].reason
    assert await outbox.status("down") == "dead"


async def test_an_entry_a_crashed_worker_held_is_reclaimed_after_its_lease(outbox, senders, robots, redis):
    await outbox.enqueue(wecom(robots))
    await outbox._ensure_group()
    # A worker reads the entry and dies before acknowledging it.
    crashed = RedisOutbox(redis, outbox._queue.split("{")[1].split("}")[0], consumer="crashed")
    await redis.xreadgroup("delivery", "crashed", {crashed._queue: ">"}, count=10)
    await outbox.deliver_once(senders)
    assert robots.received == []  # still leased to the crashed worker
    await asyncio.sleep(0.3)  # the test outbox's lease is 0.2 s
    await outbox.deliver_once(senders)
    assert len(robots.received) == 1 and await outbox.status("n1") == "delivered"


async def test_a_corrupt_entry_is_dead_lettered_not_retried_forever(outbox, senders, redis):
    await outbox._ensure_group()
    await redis.xadd(outbox._queue, {"n": b"{not json", "attempt": b"0"})
    assert await outbox.deliver_once(senders) == 1
    (dead,) = await outbox.dead_letters()
    assert "undecodable" in dead.reason
