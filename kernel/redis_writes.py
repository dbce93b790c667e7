"""Many Redis writes in one atomic script call, their arguments packed into three strings.

A redis-py MULTI packs every argument of every command in Python (redis-py's asyncio
connection does not use hiredis to pack), which costs a stream worker applying a batch
of hundreds of events more CPU than deciding them. `PackedTransaction` takes the same
calls as a pipeline for the commands a batch writes (`set`, `mset`, `hset`, `sadd`,
`zadd`, `zrem`, `hdel`), so code queueing into a MULTI can queue into it unchanged, and sends
them as one EVALSHA: the command names and argument counts as JSON, the argument sizes
as JSON, and the arguments back to back, split again inside Redis. A script runs
atomically and is persisted as one unit (one fsync under `appendfsync always`), as a
MULTI is. The keys travel in the payload, not KEYS[]: a single Redis, not a cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

_APPLY = """
local commands, sizes, values = cjson.decode(ARGV[1]), cjson.decode(ARGV[2]), ARGV[3]
local at, next_size = 1, 1
for i = 1, #commands, 2 do
  local args = {}
  for j = 1, commands[i + 1] do
    local size = sizes[next_size]
    args[j] = string.sub(values, at, at + size - 1)
    at, next_size = at + size, next_size + 1
  end
  redis.call(commands[i], unpack(args))
end
return #commands / 2
"""

# Arguments per command at most: Lua's unpack is bounded by its C stack (~8000);
# a longer variadic command is split into several of the same kind.
_MAX_ARGS = 4000

Value = str | bytes | int | float


def _encoded(value: Value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return repr(value).encode()


def _all_encoded(values: Iterable[Value]) -> list[bytes]:
    # Inline checks for the common types: a batch packs thousands of arguments.
    return [v if v.__class__ is bytes else v.encode() if v.__class__ is str else _encoded(v) for v in values]


class PackedTransaction:
    """Writes queued like a MULTI's, applied by `execute` in one script call."""

    def __init__(self, redis: Redis) -> None:
        self._apply = redis.register_script(_APPLY)
        self._commands: list[str | int] = []
        self._values: list[bytes] = []

    def __len__(self) -> int:
        return len(self._commands) // 2

    def _queue(self, command: str, head: tuple[Value, ...], tail: Iterable[Value], width: int) -> None:
        """`command` with its `head` arguments (the key) and `tail` arguments in groups
        of `width` (field and value, ...), split to keep each under `_MAX_ARGS`."""
        head_values = _all_encoded(head)
        tail_values = _all_encoded(tail)
        step = (_MAX_ARGS - len(head_values)) // width * width
        for start in range(0, max(len(tail_values), 1), step):
            chunk = tail_values[start : start + step]
            self._commands += (command, len(head_values) + len(chunk))
            self._values += head_values
            self._values += chunk

    def set(self, name: str, value: Value) -> None:
        self._queue("SET", (name, value), (), 1)

    def mset(self, mapping: Mapping[str, Value]) -> None:
        self._queue("MSET", (), [v for pair in mapping.items() for v in pair], 2)

    def hset(
        self, name: str, key: str | None = None, value: Value | None = None, mapping: Mapping[str, Value] | None = None
    ) -> None:
        pairs = [(key, value)] if key is not None else []
        pairs += (mapping or {}).items()
        self._queue("HSET", (name,), [v for pair in pairs for v in pair], 2)

    def sadd(self, name: str, *members: Value) -> None:
        self._queue("SADD", (name,), members, 1)

    def zadd(self, name: str, mapping: Mapping[str, int | float]) -> None:
        self._queue("ZADD", (name,), [v for member, score in mapping.items() for v in (score, member)], 2)

    def zrem(self, name: str, *members: Value) -> None:
        self._queue("ZREM", (name,), members, 1)

    def hdel(self, name: str, *fields: Value) -> None:
        self._queue("HDEL", (name,), fields, 1)

    async def execute(self) -> None:
        if not self._commands:
            return
        values = self._values
        await self._apply(
            args=[json.dumps(self._commands), json.dumps([len(v) for v in values]), b"".join(values)]
        )
        self._commands, self._values = [], []


# What the `queue_*` helpers of stores write into: a redis-py MULTI or a packed one.
Transaction = Pipeline | PackedTransaction
