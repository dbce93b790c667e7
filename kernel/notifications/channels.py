"""The three delivery channels and their wire formats.

- WeCom group robot: POST JSON to the robot's webhook URL (`…/cgi-bin/webhook/send?key=…`),
  `{"msgtype": "markdown", "markdown": {"content": …}}`; mentions are `<@userid>` inside
  markdown. Answers `{"errcode": 0, "errmsg": "ok"}`.
- DingTalk group robot: POST JSON to `…/robot/send?access_token=…`, with `timestamp`
  (ms) and `sign` query parameters when the robot uses signing: sign =
  urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))).
  `{"msgtype": "markdown", "markdown": {"title": …, "text": …}, "at": {"atUserIds": […]}}`.
  Answers `{"errcode": 0, "errmsg": "ok"}`.
- Email over SMTP (stdlib smtplib, in a thread), STARTTLS when configured.

A robot's non-zero errcode is a delivery failure: rate limits (WeCom 45009, DingTalk
130101) and server trouble are retried; anything else (a wrong key, a bad signature) is
not going to get better and is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import quote_plus, urlsplit, urlunsplit

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.notifications.model import Channel, Notification

# Robot error codes that mean "later", not "never".
RETRYABLE_ROBOT_ERRCODES = frozenset({-1, 45009, 130101, 130102})


class DeliveryError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


def wecom_payload(n: Notification) -> dict:
    mentions = "".join(f"<@{user}>" for user in n.mention_user_ids)
    content = f"**{n.title}**\n{n.body}" + (f"\n{mentions}" if mentions else "")
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value for a DingTalk robot with signing enabled."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_url(webhook_url: str, secret: str, timestamp_ms: int) -> str:
    if not secret:
        return webhook_url
    parts = urlsplit(webhook_url)
    extra = f"timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def dingtalk_payload(n: Notification) -> dict:
    # DingTalk highlights an @-mention only when "@userId" also appears in the text.
    mentions = " ".join(f"@{user}" for user in n.mention_user_ids)
    text = f"### {n.title}\n\n{n.body}" + (f"\n\n{mentions}" if mentions else "")
    return {
        "msgtype": "markdown",
        "markdown": {"title": n.title, "text": text},
        "at": {"atUserIds": list(n.mention_user_ids), "isAtAll": False},
    }


def email_message(n: Notification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = n.title
    message["From"] = sender
    message["To"] = ", ".join(n.recipients)
    # Lets a receiving system (or a human) spot a redelivery of the same notification.
    message["Message-ID"] = f"<{n.notification_id.replace('/', '.')}@dealpulse>"
    message.set_content(n.body)
    for a in n.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        message.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
    return message


class SmtpSettings(BaseSettings):
    """`DEALPULSE_SMTP_HOST`, `_PORT`, `_SENDER`, `_USERNAME`, `_PASSWORD`, `_STARTTLS`."""

    model_config = SettingsConfigDict(env_prefix="DEALPULSE_SMTP_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "dealpulse@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout_seconds: float = 10.0


class ChannelSenders:
    """Delivers one notification on its channel or raises DeliveryError."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        smtp: SmtpSettings,
        *,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._http = http
        self._smtp = smtp
        # DingTalk refuses a timestamp more than an hour off real time: wall clock, not
        # the adjustable business clock.
        self._now_ms = now_ms

    async def send(self, n: Notification) -> None:
        if n.channel is Channel.WECOM:
            await self._post_robot(n.webhook_url, wecom_payload(n))
        elif n.channel is Channel.DINGTALK:
            await self._post_robot(dingtalk_url(n.webhook_url, n.signing_secret, self._now_ms()), dingtalk_payload(n))
        else:
            await asyncio.to_thread(self._send_email, n)

    async def _post_robot(self, url: str, payload: dict) -> None:
        try:
            response = await self._http.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"robot unreachable: {type(exc).__name__}: {exc}", retryable=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"robot answered HTTP {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise DeliveryError(f"robot refused the call: HTTP {response.status_code}", retryable=False)
        try:
            answer = response.json()
            errcode = int(answer.get("errcode", 0))
        except (ValueError, AttributeError, TypeError):
            raise DeliveryError(f"robot answered something that is not its JSON: {response.text[:200]!r}", retryable=True)
        if errcode != 0:
            raise DeliveryError(
                f"robot errcode {errcode}: {answer.get('errmsg', '')}", retryable=errcode in RETRYABLE_ROBOT_ERRCODES
            )

    def _send_email(self, n: Notification) -> None:
        s = self._smtp
        message = email_message(n, s.sender)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as client:
                if s.starttls:
                    client.starttls()
                if s.username:
                    client.login(s.username, s.password)
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"every recipient was refused: {exc.recipients}", retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server unreachable: {type(exc).__name__}: {exc}", retryable=True) from exc
        if refused:
            # Some recipients took it; retrying would send them a second copy.
            raise DeliveryError(f"refused recipients: {', '.join(refused)}", retryable=False)
