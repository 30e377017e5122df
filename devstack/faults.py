"""`LOCAL_FAULTS`: DynamoDB's failures, injected into the functions' requests on the embedded
endpoint, for chaos runs of the whole stack.

`throttle=0.05,error=0.02,lostack=0.03[,seed=7]`: each DynamoDB request a function makes
(known by its access key, devstack.iam) fails with ThrottlingException (400) or
InternalServerError (500) at those rates *without being applied*, or, for `lostack`, is
applied and then answered InternalServerError: what DynamoDB does when an acknowledgement is
lost, and what botocore retries into a failed condition. The stack's own requests (creating
tables, the admin bootstrap, the stream poller's reads) are never touched. A seed repeats
the sequence of draws; which request meets which draw still depends on the order concurrent
requests arrive in.

Internal API relied on (moto 5.2, pinned): `moto.dynamodb.responses.DynamoHandler.call_action`
(through devstack.moto_fixes.around_dynamodb) answers `(status, headers, body)` for one
request, after moto's authorization hook ran.
"""

from __future__ import annotations

import functools
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from devstack import iam, moto_fixes

KINDS = ("throttle", "error", "lostack")
_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "error": (500, "InternalServerError", "Internal server error (LOCAL_FAULTS)."),
    "lostack": (500, "InternalServerError", "Internal server error (LOCAL_FAULTS, applied)."),
}


class FaultsError(RuntimeError):
    """LOCAL_FAULTS cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class Faults:
    """Rates (0..1) of each fault per request; `seed` makes a run repeatable."""

    throttle: float = 0.0
    error: float = 0.0
    lostack: float = 0.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Faults:
        rates: dict[str, Any] = {}
        for part in (text or "").replace(" ", "").split(","):
            if not part:
                continue
            name, sep, value = part.partition("=")
            if not sep or name not in (*KINDS, "seed"):
                raise FaultsError(
                    f"LOCAL_FAULTS: cannot read {part!r}; write name=rate pairs separated by "
                    f"commas, names among {', '.join(KINDS)} (and seed=N), e.g. "
                    "LOCAL_FAULTS=throttle=0.05,error=0.02,lostack=0.02"
                )
            try:
                rates[name] = int(value) if name == "seed" else float(value)
            except ValueError:
                raise FaultsError(f"LOCAL_FAULTS: {name}={value!r} is not a number") from None
            if name != "seed" and not 0 <= rates[name] <= 1:
                raise FaultsError(f"LOCAL_FAULTS: {name}={value} is not a rate between 0 and 1")
        faults = cls(**rates)
        if faults.throttle + faults.error + faults.lostack > 1:
            raise FaultsError("LOCAL_FAULTS: the rates add up to more than 1")
        return faults

    @property
    def active(self) -> bool:
        return self.throttle + self.error + self.lostack > 0

    def describe(self) -> str:
        return ", ".join(f"{kind} {getattr(self, kind):.0%}" for kind in KINDS)


@dataclass
class Injector:
    """Draws one fault (or none) per request, thread-safely, and counts what it injected."""

    faults: Faults = field(default_factory=Faults)
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.faults.seed)  # noqa: S311 (chaos, not secrets)

    def draw(self) -> str | None:
        with self._lock:
            roll = self._random.random()
            for kind in KINDS:
                rate: float = getattr(self.faults, kind)
                if roll < rate:
                    self.injected[kind] += 1
                    return kind
                roll -= rate
            return None


_injectors = iam.PerCaller(Injector())
"""Each stack's injector, by its functions' access keys, and the default one."""


def configure(faults: Faults, access_keys: Iterable[str] | None = None) -> Injector:
    """Inject `faults` from now on into the requests made with `access_keys` (one stack's
    functions), or by default into every function's (Faults() turns injection off)."""
    return _injectors.set(Injector(faults), access_keys)


release = _injectors.release


def _error(kind: str) -> tuple[int, dict[str, str], str]:
    status, code, message = _ERRORS[kind]
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    return status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}, body


@functools.cache
def install() -> None:
    """Hook the injector into moto's DynamoDB handler, once per process (idempotent)."""
    moto_fixes.around_dynamodb(_inject)


def _inject(handler: Any, call_action: Callable[[Any], Any]) -> Any:
    caller = _injectors.of(handler.headers)
    if caller is None or not caller[1].faults.active:
        return call_action(handler)
    kind = caller[1].draw()
    if kind in ("throttle", "error"):
        return _error(kind)
    answer = call_action(handler)
    return _error(kind) if kind == "lostack" else answer


__all__ = ["Faults", "FaultsError", "Injector", "configure", "install", "release"]
