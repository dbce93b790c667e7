"""Process configuration, read once from the environment (12-factor)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_JWT_SECRET = "dealpulse-local-development-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEALPULSE_", extra="ignore")

    environment: str = Field("local", description="local | test | staging | production")
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Every topic we declare gets this replication factor; Faust's default of 1 is a trap.
    kafka_replication_factor: int = 1
    redis_url: str = "redis://127.0.0.1:6379/0"

    jwt_algorithm: str = "HS256"
    jwt_secret: str = LOCAL_JWT_SECRET
    jwt_jwks_url: str = ""
    jwt_issuer: str = "dealpulse-local"
    jwt_audience: str = "dealpulse"

    # "system" in production; "adjustable" lets tests and the local walk-through move
    # time forward through Redis (never enabled outside local/test).
    clock: str = "system"

    grpc_port: int = 50051
    grpc_reflection: bool = True
    http_port: int = 8080
    actions_addr: str = "127.0.0.1:50051"
    pulse_addr: str = "127.0.0.1:50056"
    # Where write paths ask audit `Check` and submit approvals (kernel/audit_check.py).
    audit_addr: str = "127.0.0.1:50055"
    # How long a command waits for its own event to reach the projection.
    read_your_write_timeout_seconds: float = 10.0
    faust_web_port: int = 6066
    faust_data_dir: str = ".run/faust"

    @model_validator(mode="after")
    def _refuse_local_shortcuts_in_production(self) -> "Settings":
        if self.environment not in ("local", "test"):
            if self.jwt_algorithm == "HS256" and self.jwt_secret == LOCAL_JWT_SECRET:
                raise ValueError("DEALPULSE_JWT_SECRET must be set outside local/test")
            if self.clock != "system":
                raise ValueError("DEALPULSE_CLOCK must be 'system' outside local/test")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
