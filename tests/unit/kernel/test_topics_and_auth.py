import time

import jwt
import pytest

from kernel.auth import AuthError, TokenVerifier, mint_token
from kernel.config import Settings
from kernel.topics import TopicSpec, all_topics, by_name


def test_registry_names_are_unique_and_dead_letters_exist():
    names = [t.name for t in all_topics()]
    assert len(names) == len(set(names))
    assert by_name("actions.opportunity.v1.dlq").partitions == 1


@pytest.mark.parametrize("name", ["Actions.opportunity.v1", "actions_opportunity.v1", "actions.opportunity", "prod.actions.x.v1x"])
def test_bad_topic_names_are_refused(name):
    with pytest.raises(ValueError):
        TopicSpec(name=name, owner="x", key="k", schema="s", summary="s")


def test_token_round_trip_and_rejections():
    settings = Settings()
    verifier = TokenVerifier(settings)
    principal = verifier.verify(mint_token(settings, subject="ann", tenant="acme", roles=["manager"]))
    assert (principal.subject, principal.tenant, principal.roles) == ("ann", "acme", frozenset({"manager"}))
    with pytest.raises(AuthError):
        verifier.verify("")
    with pytest.raises(AuthError):
        verifier.verify(jwt.encode({"sub": "x"}, "another-secret-of-at-least-32-bytes", algorithm="HS256"))
    expired = mint_token(settings, subject="ann", tenant="acme", roles=["rep"], ttl_seconds=-10)
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(expired)
    no_tenant = jwt.encode(
        {"sub": "x", "exp": int(time.time()) + 60, "roles": ["rep"], "iss": settings.jwt_issuer, "aud": settings.jwt_audience},
        settings.jwt_secret,
        algorithm="HS256",
    )
    with pytest.raises(AuthError, match="tenant"):
        verifier.verify(no_tenant)


def test_local_secret_is_refused_in_production():
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(environment="production")


@pytest.mark.parametrize("tenant", ["Acme", "acme:account", "acme/x", "", "a" * 64])
def test_tenant_claims_outside_the_key_alphabet_are_refused(tenant):
    settings = Settings()
    claims = {
        "sub": "ann", "tenant": tenant, "roles": ["rep"], "exp": int(time.time()) + 60,
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
    }
    with pytest.raises(AuthError, match="tenant"):
        TokenVerifier(settings).verify(jwt.encode(claims, settings.jwt_secret, algorithm="HS256"))


def test_an_empty_subject_is_refused():
    settings = Settings()
    claims = {
        "sub": " ", "tenant": "acme", "roles": ["rep"], "exp": int(time.time()) + 60,
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
    }
    with pytest.raises(AuthError, match="sub"):
        TokenVerifier(settings).verify(jwt.encode(claims, settings.jwt_secret, algorithm="HS256"))
