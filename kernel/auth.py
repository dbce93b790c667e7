"""Bearer tokens: who the caller is, for which tenant, in which roles.

The gateway verifies the token at the edge and forwards it unchanged; every service
verifies it again (tenants are walls, checked in each service). HS256 with a shared
secret for local use; RS256 with a JWKS endpoint in real deployments.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import jwt

from kernel.config import Settings, get_settings

ROLES = frozenset(
    {"rep", "manager", "director", "presales", "delivery", "finance", "marketing", "admin"}
)
# Roles that see and act on their whole tenant, not only on what they own.
MANAGING_ROLES = frozenset({"manager", "director", "admin"})
# Roles that work the pipeline: open opportunities and record actions.
SELLING_ROLES = frozenset({"rep"}) | MANAGING_ROLES

# Tenant ids become parts of topic keys and Redis keys: a strict alphabet keeps one
# tenant's keys from ever spelling another's.
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]
    # When the token stops vouching for the caller; long-lived streams end there.
    expires_at: datetime | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class AuthError(Exception):
    """The token is missing, malformed, expired or not ours."""


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    @property
    def fetches_keys(self) -> bool:
        """True when verifying may fetch signing keys over the network (JWKS)."""
        return self._jwks is not None

    def verify(self, token: str) -> Principal:
        if not token:
            raise AuthError("missing bearer token")
        try:
            key = (
                self._jwks.get_signing_key_from_jwt(token).key
                if self._jwks
                else self._settings.jwt_secret
            )
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._settings.jwt_algorithm],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["sub", "exp", "tenant", "roles"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        tenant, roles = claims["tenant"], claims["roles"]
        if not isinstance(tenant, str) or not _TENANT.match(tenant):
            raise AuthError("invalid token: tenant must be 1-63 lowercase letters, digits or '-'")
        if not str(claims["sub"]).strip():
            raise AuthError("invalid token: sub must not be empty")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError("invalid token: roles must be a list of strings")
        return Principal(
            subject=str(claims["sub"]),
            tenant=tenant,
            roles=frozenset(roles),
            expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc),
        )


def mint_token(
    settings: Settings, *, subject: str, tenant: str, roles: list[str], ttl_seconds: int = 8 * 3600
) -> str:
    """A locally signed token (HS256 only: RS256 keys belong to the identity provider)."""
    if not _TENANT.match(tenant):
        raise ValueError("tenant must be 1-63 lowercase letters, digits or '-'")
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; known: {sorted(ROLES)}")
    now = int(time.time())
    claims = {
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def main() -> None:
    parser = argparse.ArgumentParser(description="Mint a local Dealpulse bearer token.")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--sub", required=True, help="the caller's user id")
    parser.add_argument("--role", action="append", required=True, choices=sorted(ROLES))
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    args = parser.parse_args()
    print(mint_token(get_settings(), subject=args.sub, tenant=args.tenant, roles=args.role, ttl_seconds=args.ttl))


if __name__ == "__main__":
    main()
