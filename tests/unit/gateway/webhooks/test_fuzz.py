"""Garbage in never escapes as anything but the two documented errors (seeded, so repeatable)."""

import base64
import json
import random
import struct

import pytest

from services.gateway.webhooks import dingtalk, email_events, msgcrypt, wecom
from services.gateway.webhooks.csv_import import import_csv
from services.gateway.webhooks.model import MalformedPayload, SignatureInvalid, thaw

from .conftest import AES_KEY, CORP, KEY_BYTES, NOW, TENANT, TOKEN, raw_encrypt, vendor_encrypt, vendor_sign

RNG = random.Random(20260301)
EXPECTED = (MalformedPayload, SignatureInvalid)


def _blobs(n: int) -> list[bytes]:
    return [bytes(RNG.randrange(256) for _ in range(RNG.randrange(0, 200))) for _ in range(n)]


@pytest.mark.parametrize("blob", _blobs(150))
def test_random_ciphertexts(blob):
    for encrypted in (base64.b64encode(blob).decode(), raw_encrypt(blob + bytes(-len(blob) % 16))):
        try:
            msgcrypt.decrypt(KEY_BYTES, encrypted, CORP)
        except EXPECTED:
            pass


@pytest.mark.parametrize("blob", _blobs(60))
def test_random_signed_dingtalk_messages(blob):
    query_ts = str(int(NOW.timestamp() * 1000))
    config = dingtalk.DingTalkConfig(token=TOKEN, aes_key=AES_KEY, receiver_ids=frozenset({CORP}))
    for message in (blob, json.dumps({"EventType": "attendance_check_record", "DataList": [blob.hex()[:8]]}).encode()):
        enc = vendor_encrypt(message, CORP)
        query = {"signature": vendor_sign(TOKEN, query_ts, "n", enc), "timestamp": query_ts, "nonce": "n"}
        try:
            dingtalk.handle(config, TENANT, query, {"encrypt": enc}, NOW)
        except EXPECTED:
            pass


@pytest.mark.parametrize("blob", _blobs(60))
def test_random_wecom_bodies_and_messages(blob):
    config = wecom.WeComConfig(token=TOKEN, encoding_aes_key=AES_KEY, receiver_ids=frozenset({CORP}))
    ts = str(int(NOW.timestamp()))
    enc = vendor_encrypt(b"<xml>" + blob + b"</xml>", CORP)
    query = {"msg_signature": vendor_sign(TOKEN, ts, "n", enc), "timestamp": ts, "nonce": "n"}
    for body in (blob, f"<xml><Encrypt>{enc}</Encrypt></xml>".encode()):
        try:
            wecom.handle(config, TENANT, query, body, NOW)
        except EXPECTED:
            pass


@pytest.mark.parametrize("blob", _blobs(100))
def test_random_eml_uploads(blob):
    for data in (blob, b"From: a@b.example\r\nDate: " + blob + b"\r\n\r\nbody", b"From: " + blob + b"\r\n\r\n"):
        try:
            activity = email_events.eml_activity(TENANT, data)
        except MalformedPayload:
            continue
        json.dumps({"e": thaw(activity.evidence), "d": thaw(activity.details)}, ensure_ascii=False).encode()


@pytest.mark.parametrize("blob", _blobs(100))
def test_random_csv(blob):
    header = b"source,source_id,rep_id,kind,occurred_at\n"
    for data in (blob, header + blob, header + blob.replace(b"\0", b"")):
        try:
            import_csv(TENANT, data, NOW)
        except MalformedPayload:
            pass


def test_length_field_edge():
    # declared length exactly fills the plaintext: empty receiver id → not ours
    plain = b"R" * 16 + struct.pack(">I", 2) + b"hi"
    plain += bytes([32 - len(plain) % 32]) * (32 - len(plain) % 32)
    with pytest.raises(SignatureInvalid):
        msgcrypt.decrypt(KEY_BYTES, raw_encrypt(plain), CORP)
