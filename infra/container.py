"""The composition root: the bounded contexts' use cases and processes, wired over the
adapters (infra/adapters.py) and the projections' generations (infra/generations.py),
from the settings (infra/settings.py); each built on first use, then kept.

Each function's entry point (functions/shared/observability.py) takes the process's
container and hands it down its invocation: importing a handler creates no AWS client (and
imports no boto3), so a cold start pays only for what it uses."""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urlencode

from domain.identity.process import UserMail
from domain.ordering.process import OrderProcess
from domain.processes import processes
from event_sourcing.process import Processes
from infra.generations import Generational


class Container(Generational):
    """Every dependency of the handlers, each built on first use and then kept."""

    @cached_property
    def user_mail(self) -> UserMail:
        # The page a reset link opens is the API's: PUBLIC_API_URL is the HTTP API's
        # endpoint (template.yaml), the local gateway's on the local stack.
        # Read when a link is formed (the outside-calls function), not when the stream reader
        # that only queues the mail builds this process.
        def link(token: str) -> str:
            base = self.setting("PUBLIC_API_URL").rstrip("/")
            return f"{base}/reset-password?{urlencode({'token': token})}"

        return UserMail(
            self.repository, self.mailer, self.reset_tokens, link, self.personal_data.erase
        )

    @cached_property
    def processes(self) -> Processes:
        """What the event table's second reader runs (the store's steps) and the outside-calls
        queue's consumer runs (the provider and mail steps): the order process and the
        user mail."""
        return processes(lambda: self.order_process, lambda: self.user_mail)

    @cached_property
    def order_process(self) -> OrderProcess:
        return OrderProcess(self.repository, self.payments, self.notifier)


current: Container | None = None
"""The process's container once built (`container()`): what a warm invocation reads."""


def container() -> Container:
    """The process's container, built from the environment on first use."""
    global current
    if current is None:
        current = Container()
    return current


def use(replacement: Container | None) -> None:
    """Swap the process's container (tests); None goes back to the environment's."""
    global current
    current = replacement
