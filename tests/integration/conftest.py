import pytest
from redis.asyncio import Redis

from kernel.config import Settings


@pytest.fixture
async def redis():
    client = Redis.from_url(Settings().redis_url)
    yield client
    await client.aclose()
