"""Helpers that play the vendor: encrypt and sign callbacks independently of the code under test."""

from __future__ import annotations

import base64
import hashlib
import struct
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_BYTES = bytes(range(32))
AES_KEY = base64.b64encode(KEY_BYTES).decode().rstrip("=")  # 43 characters, as the consoles show
TOKEN = "callback-token"
CORP = "ding-corp-1"
WECOM_CORP = "ww-corp-1"
NOW = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
TENANT = "t-acme"

assert len(AES_KEY) == 43


def vendor_encrypt(message: bytes, receiver: str, key: bytes = KEY_BYTES, random16: bytes = b"R" * 16) -> str:
    padder = padding.PKCS7(256).padder()  # 32-byte block, as the vendors' SDKs pad
    plain = padder.update(random16 + struct.pack(">I", len(message)) + message + receiver.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def raw_encrypt(plain: bytes, key: bytes = KEY_BYTES) -> str:
    """Encrypt already-laid-out (and already padded) bytes: for broken-layout cases."""
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def vendor_sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


@pytest.fixture
def now() -> datetime:
    return NOW
