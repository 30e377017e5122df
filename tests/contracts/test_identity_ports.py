"""Contracts of the identity ports: hasher, token issuer, attempt counter, reset tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator

import jwt
import pytest

from domain.errors import Unauthenticated
from domain.identity.ports import AttemptCounter, PasswordHasher, ResetTokens, TokenIssuer
from event_sourcing.testing.memory import ManualClock
from infra.passwords import BcryptHasher
from infra.tokens import HmacResetTokens, JwtTokenIssuer
from tests.fakes.identity import FakeResetTokens
from tests.fakes.memory import FakeHasher, FakeTokenIssuer, InMemoryAttemptCounter
from tests.support.tables import table_name

KEY = "k" * 64


@pytest.fixture(params=["fake", "bcrypt"])
def hasher(request: pytest.FixtureRequest) -> PasswordHasher:
    return FakeHasher() if request.param == "fake" else BcryptHasher(rounds=4)


@pytest.fixture(params=["fake", "jwt"])
def tokens(request: pytest.FixtureRequest, clock: ManualClock) -> TokenIssuer:
    if request.param == "fake":
        return FakeTokenIssuer(clock, ttl_seconds=600)
    return JwtTokenIssuer(lambda: KEY, clock, ttl_seconds=600)


@pytest.fixture(params=["memory", "dynamodb"])
def counter(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[AttemptCounter]:
    if request.param == "memory":
        yield InMemoryAttemptCounter(clock)
        return
    from infra.attempts import DynamoDBAttemptCounter

    yield DynamoDBAttemptCounter(
        request.getfixturevalue("dynamodb"), table_name("ThrottleTable"), clock
    )


def test_a_hash_verifies_its_password_only(hasher: PasswordHasher) -> None:
    hashed = hasher.hash("correct horse")
    assert "correct horse" not in hashed
    assert hasher.verify("correct horse", hashed)
    assert not hasher.verify("correct hors", hashed)
    assert hasher.hash("correct horse") != hashed  # salted


def test_long_passwords_count_every_character(hasher: PasswordHasher) -> None:
    long = "x" * 100
    hashed = hasher.hash(long)
    assert hasher.verify(long, hashed)
    assert not hasher.verify(long[:80], hashed)


def test_a_garbled_hash_verifies_nothing() -> None:
    assert not BcryptHasher(rounds=4).verify("pw", "bcrypt_sha256$not-a-hash")


def spy_on_verify(hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes `hasher.verify` is asked to check from now on."""
    checked: list[str] = []
    verify = hasher.verify

    def counting(password: str, hashed: str) -> bool:
        checked.append(hashed)
        return verify(password, hashed)

    monkeypatch.setattr(hasher, "verify", counting)
    return checked


def test_verify_nothing_spends_one_verification_against_a_real_hash(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown email costs what a wrong password costs: one verification, against a hash
    made the way real ones are (same shape, same cost), which the password does not match."""
    checked = spy_on_verify(hasher, monkeypatch)
    hasher.verify_nothing("anything")

    assert len(checked) == 1
    real = hasher.hash("a real password")
    shape = re.compile(r"[A-Za-z0-9./+=]+")
    assert shape.sub("x", checked[0]) == shape.sub("x", real)
    assert not hasher.verify("anything", checked[0])


def test_bcrypts_decoy_costs_as_many_rounds_as_a_real_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hasher = BcryptHasher(rounds=5)
    checked = spy_on_verify(hasher, monkeypatch)
    hasher.verify_nothing("anything")

    scheme_and_cost = checked[0].rsplit("$", 1)[0]
    assert scheme_and_cost == hasher.hash("real").rsplit("$", 1)[0] == "bcrypt_sha256$$2b$05"


def test_a_token_carries_its_user_and_credentials_version(
    tokens: TokenIssuer, clock: ManualClock
) -> None:
    token = tokens.issue("u1", 3)
    assert token.expires_in == 600
    claims = tokens.verify(token.value)
    assert (claims.user_id, claims.credentials_version) == ("u1", 3)
    assert claims.expires_at > clock.now()


def test_an_expired_token_is_refused(tokens: TokenIssuer, clock: ManualClock) -> None:
    token = tokens.issue("u1", 0)
    clock.advance(600)
    with pytest.raises(Unauthenticated) as refused:
        tokens.verify(token.value)
    assert refused.value.code == "token_expired"


def test_a_tampered_token_is_refused(tokens: TokenIssuer) -> None:
    value = tokens.issue("u1", 0).value
    with pytest.raises(Unauthenticated) as refused:
        tokens.verify(value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert refused.value.code == "token_invalid"


def test_a_receipt_is_no_token_and_reissues_the_same_token(tokens: TokenIssuer) -> None:
    value = tokens.issue("u1", 0).value
    receipt = tokens.receipt(value)
    assert value not in receipt
    with pytest.raises(Unauthenticated):
        tokens.verify(receipt)
    assert tokens.reissue(receipt) == value
    assert tokens.verify(tokens.reissue(receipt)).user_id == "u1"


@pytest.mark.parametrize(
    "forge",
    [
        lambda claims: jwt.encode(claims, key="", algorithm="none"),
        lambda claims: jwt.encode(claims, "another key of enough length!!!!", algorithm="HS256"),
        lambda claims: jwt.encode(claims, KEY, algorithm="HS512"),
    ],
    ids=["alg-none", "other-key", "other-alg"],
)
def test_jwt_refuses_alg_none_other_keys_and_other_algorithms(forge, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    issuer = JwtTokenIssuer(lambda: KEY, clock)
    now = int(clock.now().timestamp())
    claims = {"iss": "eventshop", "sub": "u1", "cv": 0, "iat": now, "exp": now + 600}
    with pytest.raises(Unauthenticated):
        issuer.verify(forge(claims))


def test_jwt_refuses_tokens_missing_a_claim(clock: ManualClock) -> None:
    issuer = JwtTokenIssuer(lambda: KEY, clock)
    now = int(clock.now().timestamp())
    token = jwt.encode({"iss": "eventshop", "sub": "u1", "iat": now, "exp": now + 60}, KEY, "HS256")
    with pytest.raises(Unauthenticated):
        issuer.verify(token)


def test_attempts_count_up_and_reset(counter: AttemptCounter) -> None:
    assert counter.count("k") == 0
    assert [counter.increment("k", ttl_seconds=60) for _ in range(3)] == [1, 2, 3]
    assert counter.count("k") == 3
    assert counter.count("other") == 0
    counter.reset("k")
    assert counter.count("k") == 0


def test_attempts_are_forgotten_after_their_time(
    counter: AttemptCounter, clock: ManualClock
) -> None:
    counter.increment("k", ttl_seconds=60)
    counter.increment("k", ttl_seconds=60)
    clock.advance(61)
    assert counter.count("k") == 0
    assert counter.increment("k", ttl_seconds=60) == 1


@pytest.fixture(params=["fake", "hmac"])
def reset_tokens(request: pytest.FixtureRequest) -> ResetTokens:
    return FakeResetTokens() if request.param == "fake" else HmacResetTokens(lambda: "k" * 64)


def test_a_reset_token_names_its_user_and_matches_its_reset_only(
    reset_tokens: ResetTokens,
) -> None:
    token = reset_tokens.token("user-7", "reset-1")
    assert token == reset_tokens.token("user-7", "reset-1")
    assert reset_tokens.user_of(token) == "user-7"
    assert reset_tokens.matches(token, "user-7", "reset-1")
    assert not reset_tokens.matches(token, "user-7", "reset-2")
    assert not reset_tokens.matches(token, "user-8", "reset-1")
    assert "reset-1" not in token


@pytest.mark.parametrize("garbage", ["", ".", "user-7", "user-7.", ".abc", "user-7.short"])
def test_a_malformed_reset_token_names_no_user(reset_tokens: ResetTokens, garbage: str) -> None:
    assert reset_tokens.user_of(garbage) is None


def test_a_reset_token_needs_the_key() -> None:
    mine, theirs = HmacResetTokens(lambda: "k" * 64), HmacResetTokens(lambda: "x" * 64)
    assert mine.token("u", "r") != theirs.token("u", "r")
    assert not mine.matches(theirs.token("u", "r"), "u", "r")
