"""One contract for Idempotency-Key replay: the in-memory fake and Powertools on DynamoDB (moto),
the latter also on a client that loses the answer of every write."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from domain.errors import Conflict
from event_sourcing.testing.lost_ack import LOSING, LostAcks, client_for
from infra.idempotency import Answer, IdempotentRequests
from tests.fakes.idempotency import InMemoryIdempotentRequests
from tests.support.lambda_context import FakeLambdaContext
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY = b"k" * 64
CONTEXT = FakeLambdaContext()
SIGN_IN = {"email": "ada@example.com", "password": "correct horse battery"}


@dataclass
class Deadline:
    """A Lambda context with `millis` left from now."""

    millis: int

    def __post_init__(self) -> None:
        self._until = time.monotonic() * 1000 + self.millis

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._until - time.monotonic() * 1000), 0)


@pytest.fixture(params=["memory", "dynamodb", LOSING])
def requests(request: pytest.FixtureRequest) -> Iterator[IdempotentRequests]:
    if request.param == "memory":
        yield InMemoryIdempotentRequests()
        return
    client = client_for(request.param, request.getfixturevalue("dynamodb"))
    yield IdempotentRequests(client, table_name("IdempotencyTable"), lambda: KEY)


@pytest.fixture
def on_dynamodb(dynamodb: DynamoDBClient) -> IdempotentRequests:
    return IdempotentRequests(dynamodb, table_name("IdempotencyTable"), lambda: KEY)


def counting(answer: Answer) -> tuple[list[int], Callable[[], Answer]]:
    calls: list[int] = []

    def compute() -> Answer:
        calls.append(1)
        return answer

    return calls, compute


def test_a_retry_with_the_same_key_and_body_answers_the_first_answer_and_runs_nothing(
    requests: IdempotentRequests,
) -> None:
    calls, compute = counting({"status": 201, "body": {"id": "p1", "version": 1}})
    first = requests.run("POST /products u1", "key-1", {"name": "x"}, compute, CONTEXT)
    again = requests.run("POST /products u1", "key-1", {"name": "x"}, compute, CONTEXT)

    assert first == again == {"status": 201, "body": {"id": "p1", "version": 1}}
    assert len(calls) == 1


def test_the_same_key_with_another_body_is_refused(requests: IdempotentRequests) -> None:
    _, compute = counting({"status": 200, "body": {"version": 1}})
    requests.run("scope", "key-1", {"price": "10.00"}, compute, CONTEXT)

    with pytest.raises(Conflict) as refused:
        requests.run("scope", "key-1", {"price": "11.00"}, compute, CONTEXT)
    assert refused.value.code == "idempotency_key_reused"


def test_keys_are_separate_per_scope(requests: IdempotentRequests) -> None:
    calls, compute = counting({"status": 200, "body": {"version": 1}})
    requests.run("POST /orders u1", "key-1", {}, compute, CONTEXT)
    requests.run("POST /orders u2", "key-1", {}, compute, CONTEXT)
    assert len(calls) == 2


def test_a_failed_first_attempt_is_not_kept_and_its_retry_runs(
    requests: IdempotentRequests,
) -> None:
    def fails() -> Answer:
        raise RuntimeError("DynamoDB was unavailable")

    with pytest.raises(RuntimeError):
        requests.run("scope", "key-1", {"a": 1}, fails, CONTEXT)
    calls, compute = counting({"status": 200, "body": {"version": 2}})

    assert requests.run("scope", "key-1", {"a": 1}, compute, CONTEXT)["body"] == {"version": 2}
    assert len(calls) == 1


def test_a_replay_answers_what_was_kept_rebuilt_and_the_first_caller_the_answer_itself(
    requests: IdempotentRequests,
) -> None:
    _, compute = counting({"status": 200, "body": {"token": "secret", "version": 3}})

    def keep(answer: Answer) -> Answer:
        return {"status": answer["status"], "body": {"version": 3}, "receipt": "r"}

    def replay(kept: Answer) -> Answer:
        return {"status": kept["status"], "body": {"token": "again", **kept["body"]}}

    first = requests.run("s", "k", {}, compute, CONTEXT, keep=keep, replay=replay)
    second = requests.run("s", "k", {}, compute, CONTEXT, keep=keep, replay=replay)

    assert first["body"] == {"token": "secret", "version": 3}
    assert second["body"] == {"token": "again", "version": 3}


# -- what only the DynamoDB layer has: a table someone may read, a lock, a lost ack ----------


def test_the_table_keeps_no_password_and_no_unkeyed_digest_of_one(
    on_dynamodb: IdempotentRequests, dynamodb: DynamoDBClient
) -> None:
    _, compute = counting({"status": 200, "body": {"version": 1}})
    on_dynamodb.run("POST /auth/token anonymous", "key-1", SIGN_IN, compute, CONTEXT)

    (item,) = dynamodb.scan(TableName=table_name("IdempotencyTable"))["Items"]
    stored = json.dumps(item)
    assert SIGN_IN["password"] not in stored
    canonical = json.dumps(SIGN_IN, sort_keys=True, separators=(",", ":")).encode()
    for unkeyed in (hashlib.md5, hashlib.sha1, hashlib.sha256):
        for text in (canonical, json.dumps(SIGN_IN, sort_keys=True).encode()):
            assert unkeyed(text).hexdigest() not in stored
    guess = IdempotentRequests(dynamodb, table_name("IdempotencyTable"), lambda: b"guess" * 8)
    with pytest.raises(Conflict):  # without the key, the same body is another fingerprint
        guess.run("POST /auth/token anonymous", "key-1", SIGN_IN, compute, CONTEXT)


def test_a_request_still_in_progress_answers_409_with_retry_after(
    on_dynamodb: IdempotentRequests,
) -> None:
    def nested() -> Answer:
        return on_dynamodb.run("s", "k", {}, lambda: {"status": 200, "body": {}}, CONTEXT)

    with pytest.raises(Conflict) as busy:
        on_dynamodb.run("s", "k", {}, nested, CONTEXT)
    assert busy.value.code == "idempotency_key_in_progress"
    assert busy.value.retry_after_seconds == 1


def test_a_crashed_attempt_holds_its_key_no_longer_than_its_invocation(
    on_dynamodb: IdempotentRequests,
) -> None:
    class Timeout(BaseException):
        """What the runtime does to an invocation out of time: no cleanup runs."""

    def crashes() -> Answer:
        raise Timeout

    with pytest.raises(Timeout):
        on_dynamodb.run("s", "k", {}, crashes, Deadline(millis=50))
    time.sleep(0.1)
    calls, compute = counting({"status": 200, "body": {"version": 1}})

    assert on_dynamodb.run("s", "k", {}, compute, CONTEXT)["body"] == {"version": 1}
    assert len(calls) == 1


def test_a_lost_ack_on_the_in_progress_record_is_recognised_as_its_own(
    dynamodb: DynamoDBClient,
) -> None:
    losing = LostAcks(dynamodb)
    requests = IdempotentRequests(losing, table_name("IdempotencyTable"), lambda: KEY)  # type: ignore[arg-type]
    calls, compute = counting({"status": 201, "body": {"version": 1}})

    assert requests.run("s", "k", {"a": 1}, compute, CONTEXT)["status"] == 201
    assert len(calls) == 1
    assert losing.lost >= 2  # the INPROGRESS put and the COMPLETED update both lost theirs


def test_every_call_site_names_the_invocation() -> None:
    import inspect

    parameter = inspect.signature(IdempotentRequests.run).parameters["context"]
    assert parameter.default is inspect.Parameter.empty
