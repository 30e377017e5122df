"""IAM, enforced: every AWS request a function makes is checked against its role's policies.

moto authorises nothing, so without this a missing grant passes every local test and fails on
AWS. The check runs inside moto's request handling (the embedded server and the in-process
`mock_aws` alike), before the request is applied, and answers `AccessDeniedException` as AWS
does. It evaluates identity-based policies the way IAM does for a single account: an explicit
`Deny` wins, else some `Allow` must match the action and the resource. A statement with a
`Condition` is never treated as matching (conditions are not evaluated here): a grant that
needs one is denied locally, which errs on the side of AWS refusing.

A request is checked as IAM checks it, not by its API name alone: each item of a
`TransactWriteItems` by its own action (`Put` needs `dynamodb:PutItem`, `Update`
`dynamodb:UpdateItem`, `ConditionCheck` `dynamodb:ConditionCheckItem`, `Delete`
`dynamodb:DeleteItem`) on its own table; a `Query` on an index against the index's ARN;
a batch against every table it names.

Who is calling is told by the request's access key (each local function gets its own, as each
Lambda function gets its role's), or, in-process, by `acting_as` around a handler call.
Requests from anyone else (the stack itself, test set-up) are not checked.

Relies on moto's internals (moto 5.2): `BaseResponse._authenticate_and_authorize_normal_action`
(the hook moto's own IAM emulation uses, called before every action), and on the handler's
`service_name`, `_get_action()`, `body`, `headers`, `region` and `current_account`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlparse

_log = logging.getLogger("devstack.iam")
T = TypeVar("T")

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, its patterns as IAM reads them."""

    allow: bool
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditional: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        def patterns(key: str) -> tuple[str, ...]:
            value = raw.get(key)
            if value is None:
                return ()
            return tuple(str(v) for v in (value if isinstance(value, list) else [value]))

        return cls(
            allow=str(raw.get("Effect", "Allow")) == "Allow",
            actions=patterns("Action"),
            not_actions=patterns("NotAction"),
            resources=patterns("Resource"),
            not_resources=patterns("NotResource"),
            conditional=bool(raw.get("Condition")),
        )

    def matches(self, action: str, resource: str) -> bool:
        return _among(action, self.actions, self.not_actions, fold=True) and _among(
            resource, self.resources, self.not_resources
        )


def _among(
    value: str, patterns: Sequence[str], excluded: Sequence[str], fold: bool = False
) -> bool:
    """Whether `value` matches one of `patterns` or, when there are none (NotAction,
    NotResource), none of `excluded`."""
    matched = any(_regex(p, fold).fullmatch(value) for p in patterns or excluded)
    return matched if patterns else not matched


@functools.cache
def _regex(pattern: str, fold: bool) -> re.Pattern[str]:
    # IAM wildcards: * any run of characters, ? one; nothing else is special
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE if fold else 0)


@dataclass(frozen=True)
class Policy:
    """The union of a role's policy documents."""

    statements: tuple[Statement, ...] = ()

    @classmethod
    def from_documents(cls, documents: Iterable[Mapping[str, Any]]) -> Policy:
        statements = []
        for document in documents:
            raw = document.get("Statement") or []
            for statement in raw if isinstance(raw, list) else [raw]:
                if isinstance(statement, Mapping):
                    statements.append(Statement.parse(statement))
        return cls(tuple(statements))

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 (policies live as long as their stack)
    def allows(self, action: str, resource: str) -> bool:
        matching = [s for s in self.statements if not s.conditional and s.matches(action, resource)]
        return bool(matching) and all(s.allow for s in matching)  # an explicit Deny wins


@dataclass(frozen=True)
class Principal:
    """A function's identity: the role it runs as and what the role may do."""

    function: str
    role_arn: str
    policy: Policy = field(default_factory=Policy)

    def session_arn(self, account: str) -> str:
        role = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{account}:assumed-role/{role}/{self.function}"


@dataclass(frozen=True)
class Request:
    """What IAM authorises: an action on a resource."""

    action: str
    resource: str


class AccessDenied(Exception):
    """A function asked for what its role does not grant."""

    def __init__(self, principal: Principal, request: Request, account: str) -> None:
        self.principal = principal
        self.request = request
        super().__init__(
            f"User: {principal.session_arn(account)} is not authorized to perform: "
            f"{request.action} on resource: {request.resource} because no identity-based "
            f"policy allows the {request.action} action"
        )


class Registry:
    """The principals the local stack knows: by access key, and the one acting in-process."""

    def __init__(self) -> None:
        self._by_key: dict[str, Principal] = {}
        self._acting: list[Principal] = []
        self._lock = threading.Lock()
        self.denials: list[AccessDenied] = []
        self.granted: set[tuple[str, str, str]] = set()
        """(function, action, resource) of every request allowed so far."""
        self.listeners: list[Callable[[AccessDenied], None]] = []

    def register(self, access_key: str, principal: Principal) -> None:
        with self._lock:
            self._by_key[access_key] = principal

    def forget(self, access_key: str) -> None:
        with self._lock:
            self._by_key.pop(access_key, None)

    @contextlib.contextmanager
    def acting_as(self, principal: Principal) -> Iterator[None]:
        """Check every request made meanwhile (any thread of this process) as `principal`."""
        with self._lock:
            self._acting.append(principal)
        try:
            yield
        finally:
            with self._lock:
                self._acting.remove(principal)

    def caller(self, access_key: str | None) -> Principal | None:
        with self._lock:
            if access_key is not None and access_key in self._by_key:
                return self._by_key[access_key]
            return self._acting[-1] if self._acting else None


registry = Registry()
acting_as = registry.acting_as


class PerCaller(Generic[T]):
    """A setting of the functions' requests (faults to inject, conflicts to emulate): one per
    stack, by its functions' access keys, so that stacks sharing the process (the e2e tests
    run several) touch only their own functions' requests; and a default for a function no
    stack configured (a test that registers a key by hand)."""

    def __init__(self, default: T) -> None:
        self.default = default
        self._by_key: dict[str, T] = {}

    def set(self, value: T, access_keys: Iterable[str] | None = None) -> T:
        """`value` from now on for the requests made with `access_keys` (one stack's
        functions), or by default."""
        if access_keys is None:
            self.default = value
        else:
            self._by_key.update(dict.fromkeys(access_keys, value))
        return value

    def release(self, access_keys: Iterable[str]) -> None:
        """Forget the value set for `access_keys` (their stack stopped)."""
        for key in access_keys:
            self._by_key.pop(key, None)

    def of(self, headers: Mapping[str, Any]) -> tuple[Principal, T] | None:
        """The function that made a request (by its headers) and its value; None for the
        stack's own requests."""
        key = access_key_from(headers)
        principal = registry.caller(key)
        if principal is None:
            return None
        return principal, self._by_key.get(key, self.default) if key is not None else self.default


def access_key_for(stack_name: str, function: str) -> str:
    """A function's own access key id in the local stack (20 characters, like AWS's)."""
    digest = hashlib.sha256(f"{stack_name}/{function}".encode()).hexdigest().upper()
    return "AKIALOCAL" + digest[:11]


# ---------------------------------------------------------------------------- requests


def requests_of(
    service: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Request]:
    """The (action, resource) pairs IAM checks for one API call."""
    if service == "dynamodb":
        return _dynamodb(action, params, region, account)
    if service == "dynamodbstreams":
        resource = str(params.get("StreamArn") or f"arn:aws:dynamodb:{region}:{account}:table/*")
        if action == "GetRecords":
            resource = _stream_of_iterator(str(params.get("ShardIterator", ""))) or resource
        return [Request(f"dynamodb:{action}", resource)]
    if service == "sqs":
        name = str(params.get("QueueUrl") or "").rstrip("/").rsplit("/", 1)[-1]
        iam_action = {
            "SendMessageBatch": "SendMessage",
            "DeleteMessageBatch": "DeleteMessage",
            "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
        }
        resource = f"arn:aws:sqs:{region}:{account}:{name or '*'}"
        return [Request(f"sqs:{iam_action.get(action, action)}", resource)]
    if service == "secretsmanager":
        secret = str(params.get("SecretId") or "*")
        if not secret.startswith("arn:"):
            secret = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}"
        return [Request(f"secretsmanager:{action}", secret)]
    if service == "kms":
        # each call names its key (the adapter passes KeyId to Decrypt too, as AWS advises)
        key = str(params.get("KeyId") or "*")
        if not key.startswith("arn:"):
            kind = "alias" if key.startswith("alias/") else "key"
            key = f"arn:aws:kms:{region}:{account}:{kind}/{key.removeprefix('alias/')}"
        return [Request(f"kms:{action}", key)]
    if service in ("ses", "sesv2"):
        sender = str(params.get("FromEmailAddress") or params.get("Source") or "*")
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        return [Request(f"ses:{action}", f"arn:aws:ses:{region}:{account}:identity/{address}")]
    return [Request(f"{service}:{action}", "*")]


def _table_arn(region: str, account: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(action: str, params: Mapping[str, Any], region: str, account: str) -> list[Request]:
    if action in ("TransactWriteItems", "TransactGetItems"):
        return [
            Request(
                f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind)}",
                _table_arn(region, account, str(body.get("TableName", "*"))),
            )
            for item in params.get("TransactItems") or []
            for kind, body in item.items()
        ]
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [
            Request(f"dynamodb:{action}", _table_arn(region, account, str(table)))
            for table in (params.get("RequestItems") or {})
        ]
    if action == "ListTables":
        return [Request("dynamodb:ListTables", "*")]
    table = str(params.get("TableName") or "*")
    index = params.get("IndexName") if action in ("Query", "Scan") else None
    return [Request(f"dynamodb:{action}", _table_arn(region, account, table, index))]


def _stream_of_iterator(iterator: str) -> str | None:
    # moto's shard iterators start with the stream's ARN; real ones are opaque
    match = re.match(r"(arn:aws[^|]*?:dynamodb:[^|]*?/stream/[^|/]+)", iterator)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------- moto hook

_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")


def access_key_from(headers: Mapping[str, Any]) -> str | None:
    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    match = _ACCESS_KEY.search(str(authorization))
    return match.group(1) if match else None


def params_of(handler: Any) -> Mapping[str, Any]:
    """A request's parameters: moto's parsed ones, else its JSON body or its query."""
    body = handler.body
    if isinstance(body, Mapping):
        return body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    text = body or ""
    content_type = str(handler.headers.get("Content-Type") or "")
    if "json" in content_type or text.startswith("{"):
        try:
            parsed = json.loads(text or "{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    query = {k: v[0] for k, v in parse_qs(text).items()}
    query.update({k: v[0] for k, v in parse_qs(urlparse(str(handler.uri)).query).items()})
    return query


def check(handler: Any) -> None:
    """Raise moto's AccessDeniedException for a request the caller's role does not allow."""
    principal = registry.caller(access_key_from(handler.headers))
    if principal is None:
        return
    service = str(getattr(handler, "service_name", "") or "")
    action = handler._get_action()
    region, account = str(handler.region), str(handler.current_account)
    for request in requests_of(service, str(action), params_of(handler), region, account):
        if not principal.policy.allows(request.action, request.resource):
            denied = AccessDenied(principal, request, account)
            registry.denials.append(denied)
            for listener in list(registry.listeners):
                listener(denied)
            _log.warning(
                "AccessDenied: %s may not %s on %s",
                principal.function,
                request.action,
                request.resource,
            )
            raise _moto_error(handler, str(denied))
        registry.granted.add((principal.function, request.action, request.resource))


_JSON_SERVICES = ("dynamodb", "dynamodbstreams", "secretsmanager", "sesv2", "kms")


def _moto_error(handler: Any, message: str) -> Exception:
    """AccessDenied in the service's own protocol: JSON (`__type`) or query XML."""
    from moto.core.exceptions import JsonRESTError, _RESTError

    service = str(getattr(handler, "service_name", "") or "")
    content_type = str(handler.headers.get("Content-Type") or "")
    error: _RESTError
    if service in _JSON_SERVICES or "json" in content_type:
        error = JsonRESTError(
            "AccessDenied" if service == "sqs" else "AccessDeniedException", message
        )
        error.code = 403 if service == "sesv2" else 400
    else:
        error = _RESTError("AccessDenied", message)
        error.code = 403
    return error


@functools.cache
def install() -> None:
    """Hook the check into moto, once per process (idempotent)."""
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def authorize(self: Any, resource: str = "*") -> None:
        original(self, resource)
        check(self)

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize  # type: ignore[method-assign]


__all__ = ["AccessDenied", "Policy", "Principal", "Registry", "acting_as", "install"]
