"""Prints every email SES sends on the embedded backend, as it is sent.

moto keeps sent messages in its in-process SES backend; with an external endpoint
(`AWS_ENDPOINT_URL`) there is nothing to read and the mailbox stays empty."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from devstack.logs import LogSink

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


class Mailbox:
    def __init__(self, region: str, log: LogSink) -> None:
        self.region = region
        self.log = log
        self.messages: list[Mail] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        while not self.stopping.wait(POLL_SECONDS):
            backend = ses_backends[DEFAULT_ACCOUNT_ID][self.region]
            for sent in backend.sent_messages[len(self.messages) :]:
                mail = Mail(
                    tuple(sent.destinations.get("ToAddresses", [])), sent.subject, sent.body
                )
                self.messages.append(mail)
                # one call: no other thread's line lands inside an email
                head = f"[mail] to {', '.join(mail.to)}: {mail.subject}"
                self.log(
                    "\n".join([head, *(f"[mail]   {line}" for line in mail.body.splitlines())])
                )
