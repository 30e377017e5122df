"""How long a command's effect takes to show in its view, over the local stack (warm)."""

from __future__ import annotations

import statistics
import time
import uuid

import requests

SAMPLES = 20
POLL_SECONDS = 0.005


def measure() -> list[float]:
    """Seconds from a password change's answer to GET /users/me showing its version (a
    sign-in is no event: it moves no version). The sign-in with the new password, which
    the old token no longer passes, is counted in (a few ms at BcryptRounds 4)."""
    from devstack.logs import discard
    from devstack.stack import LocalStack

    lags: list[float] = []
    with LocalStack(
        port=0,
        stack_name=f"bench-{uuid.uuid4().hex[:8]}",
        parameter_overrides={"BcryptRounds": "4"},
        prewarm=True,
        log=discard,
    ) as stack:
        http = requests.Session()
        for n in range(SAMPLES + 2):  # the first two warm every function
            body = {"email": f"lag{n}@example.com", "password": "bench password"}
            http.post(stack.url + "/users", json=body, timeout=10)
            token = http.post(stack.url + "/auth/token", json=body, timeout=10).json()
            change = {"old_password": body["password"], "new_password": "bench password 2"}
            changed = http.post(
                stack.url + "/users/me/password",
                json=change,
                headers={"Authorization": f"Bearer {token['access_token']}"},
                timeout=10,
            )
            answered = time.monotonic()
            version = changed.json()["version"]
            again = {"email": body["email"], "password": change["new_password"]}
            token = http.post(stack.url + "/auth/token", json=again, timeout=10).json()
            while True:
                me = http.get(
                    stack.url + "/users/me",
                    headers={"Authorization": f"Bearer {token['access_token']}"},
                    timeout=10,
                )
                if me.status_code == 200 and me.json()["version"] >= version:
                    break
                time.sleep(POLL_SECONDS)
            if n >= 2:
                lags.append(time.monotonic() - answered)
    return lags


def summary(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags)
    return {
        "median": statistics.median(ordered),
        "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max": ordered[-1],
    }
