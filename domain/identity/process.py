"""The user-mail process: the welcome email after a registration, the reset link after a
request. It runs from the event table's stream (never inside the command, so a slow or
failing mail server delays no answer), at least once per event, possibly redelivered.

Each call loads the user and sends the one email its state says is due
(`User.next_mail`), then records that it was sent: a redelivered event finds nothing due.
A send names an idempotency key derived from the user (welcome) or the reset, so a crash
between the send and the record mails nothing twice."""

from __future__ import annotations

from collections.abc import Callable

from domain.access import CommandContext
from domain.identity.ports import Mailer, ResetTokens
from domain.identity.user import Mail, PasswordResetRequested, User, UserRegistered
from event_sourcing.repository import Decision, EventSourcedRepository

MAIL_DUE_AFTER = (UserRegistered.event_type, PasswordResetRequested.event_type)
"""The user events after which an email may be due: all this process is handed (the
reader's FilterCriteria in template.yaml, checked against this by tests)."""


def welcome_key(user_id: str) -> str:
    return f"welcome-{user_id}"


def reset_key(reset_id: str) -> str:
    return f"reset-{reset_id}"


class UserMail:
    def __init__(
        self,
        repository: EventSourcedRepository,
        mailer: Mailer,
        tokens: ResetTokens,
        reset_link: Callable[[str], str],
    ) -> None:
        """`reset_link(token)`: the page a link opens, `<API URL>/reset-password?token=`."""
        self.repository = repository
        self.mailer = mailer
        self.tokens = tokens
        self.reset_link = reset_link

    def handle(
        self,
        user_id: str,
        event_version: int,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Mail | None:
        """Send the email the user is due, if any; answers which one was sent."""
        stream_id = User.stream_id_of(user_id)
        context = CommandContext(
            correlation_id=correlation_id or stream_id,
            causation_id=causation_id or f"{stream_id}@{event_version}",
        )

        def decide(user: User) -> Decision[Mail]:
            mail = user.next_mail(self.repository.clock.now()) if user.exists else None
            if mail is Mail.WELCOME:
                message_id = self.mailer.welcome(
                    idempotency_key=welcome_key(user.id), to=user.state.email
                )
                user.record_welcome(message_id, self.repository.clock.now())
            elif mail is Mail.RESET_LINK:
                pending = user.state.pending_reset
                assert pending is not None  # next_mail answers RESET_LINK only then
                message_id = self.mailer.password_reset(
                    idempotency_key=reset_key(pending.reset_id),
                    to=user.state.email,
                    link=self.reset_link(self.tokens.token(user.id, pending.reset_id)),
                    expires_at=pending.expires_at,
                )
                user.record_reset_mailed(pending.reset_id, message_id)
            return Decision(mail)

        return self.repository.transact(User, user_id, decide, context=context).result
