import base64
import struct
from datetime import timedelta

import pytest

from services.gateway.webhooks import msgcrypt
from services.gateway.webhooks.model import MalformedPayload, SignatureInvalid

from .conftest import AES_KEY, CORP, KEY_BYTES, NOW, TOKEN, raw_encrypt, vendor_encrypt, vendor_sign

TS = str(int(NOW.timestamp()))


def test_key_from_console_value():
    assert msgcrypt.aes_key_from(AES_KEY) == KEY_BYTES
    for bad in ("short", AES_KEY[:-1] + "!", AES_KEY + "A"):
        with pytest.raises(ValueError):
            msgcrypt.aes_key_from(bad)


def test_decrypts_what_the_vendor_encrypts_and_round_trips():
    for message in (b"", b"x", b"y" * 11, b"z" * 12, "中文 message".encode() * 7):
        enc = vendor_encrypt(message, CORP)
        assert msgcrypt.decrypt(KEY_BYTES, enc, CORP) == message
        assert msgcrypt.decrypt(KEY_BYTES, msgcrypt.encrypt(KEY_BYTES, message, CORP), CORP) == message
    # our encrypt is byte-identical to the vendor's for the same random prefix
    assert msgcrypt.encrypt(KEY_BYTES, b"success", CORP, b"R" * 16) == vendor_encrypt(b"success", CORP)


def signed(ts: str = TS, encrypted: str = "enc", **overrides):
    """verify() arguments for a correctly signed request, with overrides."""
    signature = vendor_sign(TOKEN, ts, "n", encrypted)
    args = dict(token=TOKEN, timestamp=ts, nonce="n", encrypt=encrypted, signature=signature, now=NOW)
    args.update(overrides)
    return args


def test_signature_is_sha1_of_sorted_parts():
    assert msgcrypt.sign(TOKEN, TS, "n", "enc") == vendor_sign(TOKEN, TS, "n", "enc")
    msgcrypt.verify(**signed())
    msgcrypt.verify(**signed(signature=vendor_sign(TOKEN, TS, "n", "enc").upper()))  # upper-case hex is accepted


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "0" * 40},
        {"encrypt": "other"},  # the signature covers the ciphertext
        {"nonce": "m"},
        {"token": "not-ours"},
        {"signature": None},
        {"timestamp": None},
        {"nonce": None},
        {"encrypt": None},
        {"timestamp": "soon"},
    ],
)
def test_tampered_or_missing_parts_are_signature_invalid(change):
    with pytest.raises(SignatureInvalid):
        msgcrypt.verify(**signed(**change))


@pytest.mark.parametrize("skew", [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1), timedelta(days=1)])
def test_replay_window(skew):
    with pytest.raises(SignatureInvalid):
        msgcrypt.verify(**signed(str(int((NOW + skew).timestamp()))))


def test_replay_window_edges_and_milliseconds():
    for skew in (timedelta(minutes=5), -timedelta(minutes=5), timedelta(0)):
        msgcrypt.verify(**signed(str(int((NOW + skew).timestamp()))))
    msgcrypt.verify(**signed(str(int(NOW.timestamp() * 1000) - 4 * 60_000)))
    stale_ms = str(int(NOW.timestamp() * 1000) - 6 * 60_000)
    with pytest.raises(SignatureInvalid):
        msgcrypt.verify(**signed(stale_ms))
    msgcrypt.verify(**signed(stale_ms, window=timedelta(minutes=10)))  # the window is configuration


def test_wrong_receiver_id_is_signature_invalid():
    with pytest.raises(SignatureInvalid):
        msgcrypt.decrypt(KEY_BYTES, vendor_encrypt(b"{}", "ding-someone-else"), CORP)
    # any of several configured receivers (corp id and suite key) is accepted
    assert msgcrypt.decrypt(KEY_BYTES, vendor_encrypt(b"{}", "suite-1"), frozenset({CORP, "suite-1"})) == b"{}"


def _pad(b: bytes) -> bytes:
    n = 32 - len(b) % 32
    return b + bytes([n]) * n


@pytest.mark.parametrize(
    "encrypted",
    [
        "",
        "not base64 at all!",
        "QUJD",  # valid base64, 3 bytes: not whole blocks
        base64.b64encode(b"\0" * 33).decode(),  # not a multiple of 16
        vendor_encrypt(b"hello", CORP)[:-24] + "==",  # truncated
        raw_encrypt(_pad(b"R" * 16 + struct.pack(">I", 5) + b"hello" + CORP.encode())[:-2] + b"\x01\x05"),  # mixed pad
        raw_encrypt(b"\x00" * 31 + b"\x21"),  # pad byte 33 > block
        raw_encrypt(_pad(b"R" * 16 + struct.pack(">I", 9999) + b"hello" + CORP.encode())),  # length lies
        raw_encrypt(_pad(b"R" * 10)),  # shorter than the 20-byte header
        raw_encrypt(_pad(b"R" * 16 + struct.pack(">I", 5) + b"hello" + b"\xff\xfe")),  # receiver not UTF-8
    ],
)
def test_undecodable_ciphertext_is_malformed(encrypted):
    with pytest.raises(MalformedPayload) as e:
        msgcrypt.decrypt(KEY_BYTES, encrypted, CORP, field="encrypt")
    assert e.value.field == "encrypt"


def test_wrong_key_never_crashes():
    other = bytes(range(1, 33))
    with pytest.raises((MalformedPayload, SignatureInvalid)):
        msgcrypt.decrypt(other, vendor_encrypt(b'{"a":1}', CORP), CORP)
