"""What to deliver: one message on one channel, under an idempotency key.

The id is the caller's: the same logical notification (e.g. one rep's must-do list for
one day on one channel) must always get the same id, so enqueueing it twice — after a
crash, or from two workers — delivers it once.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
MAX_TITLE = 200
# WeCom caps markdown at 4096 bytes; DingTalk at about 20 000. The smaller wins.
MAX_BODY_BYTES = 4096
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class Channel(str, Enum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    EMAIL = "email"


class InvalidNotification(ValueError):
    """A notification that could never be delivered; refused at enqueue time."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename:
            raise InvalidNotification(f"attachment file name {self.filename!r} must be a plain file name")
        if "/" not in self.content_type:
            raise InvalidNotification(f"attachment content type {self.content_type!r} is not a MIME type")
        if len(self.content) > MAX_ATTACHMENT_BYTES:
            raise InvalidNotification(f"attachment {self.filename} is larger than {MAX_ATTACHMENT_BYTES} bytes")


@dataclass(frozen=True)
class Notification:
    notification_id: str
    tenant_id: str
    channel: Channel
    title: str
    # Markdown: both robots render it; email sends it as the text body.
    body: str
    # Robot webhook URL (for WeCom it carries the robot's key).
    webhook_url: str = ""
    # DingTalk robots with "加签" security need the secret (SEC...) to sign each call.
    signing_secret: str = ""
    # Robots: the user ids to @-mention in the group. Email: the addressees.
    mention_user_ids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", Channel(self.channel))
        for name in ("mention_user_ids", "recipients", "attachments"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not ID.match(self.notification_id or ""):
            raise InvalidNotification(f"notification id {self.notification_id!r} must be 1-200 characters of [A-Za-z0-9._:/-]")
        if not self.tenant_id:
            raise InvalidNotification("tenant_id is required")
        if not self.title.strip() or len(self.title) > MAX_TITLE:
            raise InvalidNotification(f"title must be 1-{MAX_TITLE} characters")
        if not self.body.strip():
            raise InvalidNotification("body must not be empty")
        if self.channel is Channel.EMAIL:
            if not self.recipients:
                raise InvalidNotification("an email needs at least one recipient")
            bad = [r for r in self.recipients if not EMAIL.match(r)]
            if bad:
                raise InvalidNotification(f"not email addresses: {', '.join(bad)}")
            if self.webhook_url:
                raise InvalidNotification("an email has no webhook URL")
            return
        if len(self.body.encode()) > MAX_BODY_BYTES:
            raise InvalidNotification(f"a robot message body must be at most {MAX_BODY_BYTES} bytes (UTF-8)")
        parts = urlsplit(self.webhook_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise InvalidNotification(f"webhook URL {self.webhook_url!r} must be an http(s) URL")
        if self.attachments:
            raise InvalidNotification("group robots take no attachments")
        if self.recipients:
            raise InvalidNotification("group robots take mentions, not recipients")
        if self.signing_secret and self.channel is not Channel.DINGTALK:
            raise InvalidNotification("only DingTalk robots are signed")

    def to_json(self) -> str:
        return json.dumps(
            {
                "notification_id": self.notification_id,
                "tenant_id": self.tenant_id,
                "channel": self.channel.value,
                "title": self.title,
                "body": self.body,
                "webhook_url": self.webhook_url,
                "signing_secret": self.signing_secret,
                "mention_user_ids": list(self.mention_user_ids),
                "recipients": list(self.recipients),
                "attachments": [
                    {"filename": a.filename, "content_type": a.content_type, "content": base64.b64encode(a.content).decode()}
                    for a in self.attachments
                ],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Notification":
        data = json.loads(raw)
        data["attachments"] = tuple(
            Attachment(a["filename"], a["content_type"], base64.b64decode(a["content"])) for a in data["attachments"]
        )
        return cls(**data)
