"""Notifications out of Dealpulse: a durable outbox in Redis and delivery to WeCom and
DingTalk group robots and to email. Infrastructure only: services decide what to say
and to whom; this package makes sure it is said once, survives restarts, and is
retried when a receiver is down.

- `model`: `Notification` (what to deliver, where, under which idempotency key).
- `channels`: the wire formats and the senders (WeCom, DingTalk with its signature, SMTP).
- `outbox`: `RedisOutbox` (enqueue once per id; deliver with retries, backoff and a
  dead-letter list) and `run_delivery` (the loop a worker runs).
"""

from kernel.notifications.channels import ChannelSenders, DeliveryError
from kernel.notifications.model import Attachment, Channel, Notification
from kernel.notifications.outbox import RedisOutbox, run_delivery

__all__ = ["Attachment", "Channel", "ChannelSenders", "DeliveryError", "Notification", "RedisOutbox", "run_delivery"]
