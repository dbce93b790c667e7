"""A tenant's webhook configuration: which vendors may push activities for it, with the
secrets that prove a push is theirs, and how vendor users map to reps.

Webhook URLs carry the tenant (`/webhooks/dingtalk/{tenant}`); the tenant's own secrets
authenticate the request, so a push for tenant A signed with tenant B's secrets fails
with 401, like a push for a tenant that configured nothing for that vendor.
Pure: (de)serialisation and the redacted view; storage is an adapter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dingtalk import DingTalkConfig
from .model import REDACTED
from .wecom import WeComConfig


@dataclass(frozen=True)
class EmailConfig:
    """`secret` signs webhook bodies (HMAC-SHA256); `own_domains` make an uploaded .eml
    outbound; `address_map` names the rep behind a mailbox (lower-case address → rep id)."""

    secret: str
    own_domains: tuple[str, ...] = ()
    address_map: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the email webhook secret must have at least 16 characters")

    def rep_for(self, addresses: list[str]) -> str | None:
        for address in addresses:
            if (rep := self.address_map.get(address.lower())) is not None:
                return rep
        return None


@dataclass(frozen=True)
class TenantWebhooks:
    dingtalk: DingTalkConfig | None = None
    wecom: WeComConfig | None = None
    email: EmailConfig | None = None

    def to_json(self) -> str:
        return json.dumps(self._as_dict(redacted=False), sort_keys=True)

    def redacted(self) -> dict[str, Any]:
        """What an API may show: every secret replaced by '***'."""
        return self._as_dict(redacted=True)

    def _as_dict(self, *, redacted: bool) -> dict[str, Any]:
        def secret(value: str) -> str:
            return REDACTED if redacted else value

        out: dict[str, Any] = {}
        if self.dingtalk:
            out["dingtalk"] = {
                "token": secret(self.dingtalk.token),
                "aes_key": secret(self.dingtalk.aes_key),
                "receiver_ids": sorted(self.dingtalk.receiver_ids),
                "user_map": dict(self.dingtalk.user_map),
            }
        if self.wecom:
            out["wecom"] = {
                "token": secret(self.wecom.token),
                "encoding_aes_key": secret(self.wecom.encoding_aes_key),
                "receiver_ids": sorted(self.wecom.receiver_ids),
                "user_map": dict(self.wecom.user_map),
            }
        if self.email:
            out["email"] = {
                "secret": secret(self.email.secret),
                "own_domains": list(self.email.own_domains),
                "address_map": dict(self.email.address_map),
            }
        return out


def from_dict(data: Mapping[str, Any]) -> TenantWebhooks:
    """Raises ValueError/KeyError/TypeError naming what is wrong."""
    dingtalk = data.get("dingtalk")
    wecom = data.get("wecom")
    email = data.get("email")
    return TenantWebhooks(
        dingtalk=DingTalkConfig(
            token=dingtalk["token"],
            aes_key=dingtalk["aes_key"],
            receiver_ids=frozenset(dingtalk["receiver_ids"]),
            user_map=dict(dingtalk.get("user_map") or {}),
        )
        if dingtalk
        else None,
        wecom=WeComConfig(
            token=wecom["token"],
            encoding_aes_key=wecom["encoding_aes_key"],
            receiver_ids=frozenset(wecom["receiver_ids"]),
            user_map=dict(wecom.get("user_map") or {}),
        )
        if wecom
        else None,
        email=EmailConfig(
            secret=email["secret"],
            own_domains=tuple(d.lower() for d in email.get("own_domains") or ()),
            address_map={k.lower(): v for k, v in (email.get("address_map") or {}).items()},
        )
        if email
        else None,
    )


def from_json(text: str | bytes) -> TenantWebhooks:
    return from_dict(json.loads(text))
