"""The local stack (the same one `make run` starts), started once for the e2e tests."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack import iam
from devstack.logs import ConsoleLog
from devstack.stack import LocalStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ADMIN_EMAIL = "admin@e2e.example.com"
ADMIN_PASSWORD = "e2e admin password"


class Client:
    """A thin HTTP client for the stack's API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.url + path, json=body, headers=all_headers, params=params, timeout=30
        )

    def token(self, email: str, password: str) -> str:
        return self.sign_in(email, password)[0]

    def sign_in(self, email: str, password: str) -> tuple[str, int]:
        """A token, and the user's current version (a sign-in records no event)."""
        answer = self.call("POST", "/auth/token", {"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"]), int(answer.json()["version"])

    def new_product(
        self, token: str, category: str, name: str, description: str, price: str
    ) -> tuple[str, str]:
        """A new category and a product in it (inactive), once projected: their ids."""
        found = self.call("POST", "/categories", {"name": category}, token=token)
        assert found.status_code == 201, found.text
        category_id = str(found.json()["id"])
        body = {"name": name, "description": description, "price": price}
        made = self.call("POST", "/products", {**body, "category_id": category_id}, token=token)
        assert made.status_code == 201, made.text
        product_id = str(made.json()["id"])
        settled(self, f"/products/{product_id}", lambda doc: True, token=token)
        return category_id, product_id


def settled(
    api: Client, path: str, check: Any, *, token: str | None = None, seconds: float = 20
) -> dict[str, Any]:
    """The view at `path` once `check` holds for it (the projector is asynchronous)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = api.call("GET", path, token=token)
        if answer.status_code == 200 and check(answer.json()):
            return dict(answer.json())
        assert time.monotonic() < deadline, f"{path}: {answer.status_code} {answer.text}"
        time.sleep(0.2)


def rebuilt_views(stack: LocalStack) -> tuple[Any, Any]:
    """The stack's views as they are, and every projection rebuilt from its event table
    into a fresh table, personal fields opened with the stack's own keys (as its
    projector opens them)."""
    from unittest import mock

    from infra.container import Container
    from tests.support.views import items_of, rebuilt_from

    client, views = stack.clients.dynamodb(), stack.table_name("ViewsTable")
    env = stack.resolved_env("ProjectorFunction", as_function=False)
    with mock.patch.dict(os.environ, env):  # boto3 finds the stack's endpoint there
        registry = Container(env).repository.events
        rebuilt = rebuilt_from(client, stack.table_name("EventsTable"), views, registry)
    return items_of(client, views), rebuilt


@contextmanager
def local_stack(name: str, printed: list[str] | None = None, **env: str) -> Iterator[LocalStack]:
    """A fresh embedded local stack (as `make run` starts it) with the e2e admin and `env`;
    none of its functions may be denied anything it asks for meanwhile. Every line it prints
    is also added to `printed`.

    Stacks share the process's IAM registry (another module's stack may run meanwhile, the
    session's one stays up): a denial counts here when one of this stack's functions met it."""
    environment = {
        **os.environ,
        "LOCAL_ADMIN_EMAIL": ADMIN_EMAIL,
        "LOCAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **env,
    }
    environment.pop("AWS_ENDPOINT_URL", None)
    console = ConsoleLog()
    since = len(iam.registry.denials)
    functions: list[iam.Principal] = []

    def log(line: str) -> None:
        if printed is not None:
            printed.append(line)
        console(line)

    with LocalStack(
        port=0,
        stack_name=f"{name}-{uuid.uuid4().hex[:8]}",
        env=environment,
        parameter_overrides={"BcryptRounds": "4"},
        prewarm=True,
        log=log,
    ) as running:
        functions += running.deployment.principals.values()
        yield running
    denied = [
        f"[iam] AccessDenied: {d.principal.function} may not {d.request.action} "
        f"on {d.request.resource}"
        for d in iam.registry.denials[since:]
        if any(d.principal is function for function in functions)
    ]
    # every journey ran under the functions' own roles: the template grants what they use
    assert denied == [], "\n".join(denied)


@pytest.fixture(scope="session")
def printed() -> list[str]:
    """What the session's local stack printed (its log, the emails it sent): tests find
    their own lines in it by their own unique data (an email address, an id)."""
    return []


@pytest.fixture(scope="session")
def stack(printed: list[str]) -> Iterator[LocalStack]:
    """The local stack with the default configuration, booted once per test session (per
    xdist worker) and shared by every e2e module that needs nothing else: their data is
    their own (unique names, emails and ids), never an empty shop's. The e2e tests run in a
    pytest run of their own (Makefile `unit`): moto's mock_aws, which the other tests use,
    resets every moto backend of its process, this stack's tables included."""
    with local_stack("e2e", printed) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Client:
    return Client(stack.url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, (
        f"the browser tests need {', '.join(missing)}: `make test` installs Debian's "
        "chromium and chromium-driver (as root: apt-get install chromium chromium-driver)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
