"""The sample vectors published with Tencent's WXBizMsgCrypt SDK (WeCom docs, "加解密方案说明"),
reproduced in many public SDKs. Passing them shows our scheme is the vendor's, not just
self-consistent. DingTalk uses the same construction (its SDK is a port of this one)."""

from datetime import UTC, datetime

from services.gateway.webhooks import msgcrypt, wecom

TOKEN = "QDG6eK"
CORP = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

POST_QUERY = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
}
POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg"
    "3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+k"
    "DZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6ti"
    "WSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p"
    "8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
GET_QUERY = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
CONFIG = wecom.WeComConfig(token=TOKEN, encoding_aes_key=AES_KEY, receiver_ids=frozenset({CORP}))


def at(ts: str) -> datetime:
    return datetime.fromtimestamp(int(ts), UTC)


def test_post_vector_signature_and_plaintext():
    signature = msgcrypt.sign(TOKEN, POST_QUERY["timestamp"], POST_QUERY["nonce"], POST_ENCRYPT)
    assert signature == POST_QUERY["msg_signature"]
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{POST_ENCRYPT}]]></Encrypt></xml>"
    msg = wecom.decrypt_message(CONFIG, POST_QUERY, body, at(POST_QUERY["timestamp"]))
    assert msg["Content"] == "hello" and msg["MsgType"] == "text" and msg["MsgId"] == "4561255354251345929"
    # a text message is not an activity: acknowledged, nothing produced
    assert wecom.handle(CONFIG, "t", POST_QUERY, body, at(POST_QUERY["timestamp"])).activities == []


def test_url_verification_vector():
    assert wecom.verify_url(CONFIG, GET_QUERY, at(GET_QUERY["timestamp"])) == b"1616140317555161061"
