"""Stand-ins for the gateway's adapters (the actions service, Redis) in edge tests,
and token helpers. They implement the adapters' interfaces only; behaviour against
the real stack is tested end to end."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
import jwt
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from redis.exceptions import ConnectionError as RedisConnectionError

from dealpulse.actions.v1 import actions_service_pb2

TENANT = "acme"
_SERVICE = actions_service_pb2.DESCRIPTOR.services_by_name["ActionsService"]


@dataclass
class RecordedCall:
    method: str
    request: Message
    token: str


@dataclass
class RecordingActions:
    """Implements the gateway's ActionsPort: records each call and answers with the
    response registered for its method (an empty response by default)."""

    responses: dict[str, Message | grpc.aio.AioRpcError] = field(default_factory=dict)
    calls: list[RecordedCall] = field(default_factory=list)
    serving: bool = True

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        rpc = _SERVICE.methods_by_name[method]  # a KeyError here is a routing bug
        assert request.DESCRIPTOR is rpc.input_type, f"{method} got a {request.DESCRIPTOR.full_name}"
        self.calls.append(RecordedCall(method, request, token))
        answer = self.responses.get(method)
        if isinstance(answer, grpc.aio.AioRpcError):
            raise answer
        if answer is None:
            return GetMessageClass(rpc.output_type)()
        return answer

    async def is_serving(self) -> bool:
        return self.serving

    async def close(self) -> None:
        pass


class FakeRedis:
    """The few redis.asyncio calls the gateway makes, in memory; `up = False` makes
    each of them fail as a lost connection would."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.up = True

    async def get(self, key: str) -> bytes | None:
        self._require_up()
        return self.values.get(key)

    async def set(self, key: str, value: str, *, ex: int | None = None, nx: bool = False) -> bool:
        self._require_up()
        if nx and key in self.values:
            return False
        self.values[key] = value.encode()
        return True

    async def incrbyfloat(self, key: str, amount: float) -> float:
        self._require_up()
        value = float(self.values.get(key, b"0")) + amount
        self.values[key] = str(value).encode()
        return value

    async def ping(self) -> bool:
        self._require_up()
        return True

    async def aclose(self) -> None:
        pass

    def _require_up(self) -> None:
        if not self.up:
            raise RedisConnectionError("redis is down")


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


def sign(claims: dict, secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")
