"""The callback crypto scheme DingTalk and WeCom share (Tencent's "WXBizMsgCrypt").

Assumptions (from the vendors' published SDKs; verify against the current docs):

* Signature: SHA-1 hex digest of the four strings (token, timestamp, nonce, encrypt)
  sorted lexicographically and concatenated. DingTalk calls the query parameter
  `signature` (newer docs `msg_signature`), WeCom `msg_signature`.
* Key: the console's 43-character EncodingAESKey / aes_key, base64-decoded after
  appending "=", giving 32 bytes (AES-256). IV = the key's first 16 bytes.
* Cipher: AES-256-CBC, PKCS#7 padding to a 32-byte block (pad bytes 1..32).
* Plaintext: 16 random bytes ‖ 4-byte big-endian message length ‖ message ‖ receiver id
  (DingTalk: corpId or suiteKey; WeCom: corp id, or suite id for third-party apps).

Checked against the vendor: tests/unit/gateway/webhooks/test_vendor_vectors.py reproduces the
sample vectors shipped with Tencent's SDK (signature, POST decryption, URL-check echostr).

Policy choices (ours, not the vendors'):

* Order of checks: timestamp window, then signature, then decryption. The signature
  covers the ciphertext, so anything undecodable after a valid signature is the
  vendor's (or the key holder's) malformed payload → `MalformedPayload`.
* Replay window: |now − timestamp| must be ≤ the window (default 5 min). A stale or
  unparsable timestamp is an authentication failure → `SignatureInvalid`. Timestamps
  ≥ 1e11 are read as milliseconds (DingTalk sends ms, WeCom seconds).
* A receiver id that is not ours → `SignatureInvalid` (401): the payload decrypted with
  our key, so it is well-formed, but it was addressed to another corp/app — the SDKs
  treat this as a validation failure (`ValidateCorpid_Error`), and telling the sender
  "fix your payload" (400) would be wrong: the request is simply not authentic for us.
* Decryption never raises anything but `MalformedPayload`/`SignatureInvalid`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .model import DEFAULT_REPLAY_WINDOW, MalformedPayload, SignatureInvalid

BLOCK = 32


def aes_key_from(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character console value. Raises ValueError (config error)."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def verify(
    *,
    token: str,
    timestamp: str | None,
    nonce: str | None,
    encrypt: str | None,
    signature: str | None,
    now: datetime,
    window: timedelta = DEFAULT_REPLAY_WINDOW,
) -> None:
    """Raise `SignatureInvalid` unless the request is fresh and correctly signed."""
    if not timestamp or not nonce or not signature or encrypt is None:
        raise SignatureInvalid("missing signature, timestamp or nonce")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureInvalid("timestamp is not an integer") from None
    seconds = ts / 1000 if ts >= 100_000_000_000 else ts
    if abs(now.timestamp() - seconds) > window.total_seconds():
        raise SignatureInvalid("timestamp outside the replay window")
    expected = sign(token, timestamp, nonce, encrypt)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureInvalid("signature mismatch")


def _pkcs7_pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def encrypt(key: bytes, message: bytes, receiver_id: str, random16: bytes | None = None) -> str:
    """Encrypt a message the way the vendor does (also used for DingTalk's encrypted ack)."""
    random16 = os.urandom(16) if random16 is None else random16
    if len(random16) != 16:
        raise ValueError("random prefix must be 16 bytes")
    plain = random16 + struct.pack(">I", len(message)) + message + receiver_id.encode()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(_pkcs7_pad(plain)) + encryptor.finalize()).decode()


def decrypt(key: bytes, encrypted: str, receiver_ids: str | frozenset[str] | set[str], field: str = "encrypt") -> bytes:
    """The message inside `encrypted`, after checking padding, layout and receiver id."""
    if not isinstance(encrypted, str) or not encrypted:
        raise MalformedPayload(field, "missing encrypted payload")
    try:
        raw = base64.b64decode(encrypted.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedPayload(field, "not valid base64") from None
    if len(raw) < BLOCK or len(raw) % 16:
        raise MalformedPayload(field, "ciphertext length is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise MalformedPayload(field, "bad padding")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise MalformedPayload(field, "plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if length > len(plain) - 20:
        raise MalformedPayload(field, "declared message length exceeds the plaintext")
    message = plain[20 : 20 + length]
    try:
        receiver = plain[20 + length :].decode()
    except UnicodeDecodeError:
        raise MalformedPayload(field, "receiver id is not UTF-8") from None
    wanted = {receiver_ids} if isinstance(receiver_ids, str) else set(receiver_ids)
    if not any(hmac.compare_digest(receiver.encode(), r.encode()) for r in wanted):
        raise SignatureInvalid("payload is addressed to another receiver id")
    return message
