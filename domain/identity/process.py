"""The user-mail process: the welcome email after a registration, the reset link after a
request; and, after an erasure, the user's data key destroyed at least once. It runs from
the event table's stream (never inside the command, so a slow or failing mail server
delays no answer), at least once per event, possibly redelivered.

Each call loads the user and sends the one email its state says is due
(`User.next_mail`), then records that it was sent: a redelivered event finds nothing due.
A send names an idempotency key derived from the user (welcome) or the reset, so a crash
between the send and the record mails nothing twice. Every mail step runs from the
outside-calls queue, not in the stream's loop (`outside`); the key's destruction (the
keys table, not the outside world) runs in the stream's loop."""

from __future__ import annotations

from collections.abc import Callable

from domain.identity.ports import Mailer, ResetTokens
from domain.identity.user import Mail, PasswordResetRequested, User, UserErased, UserRegistered
from event_sourcing.process import ProcessManager
from event_sourcing.repository import Decision, EventSourcedRepository

FOLLOWS = (
    UserRegistered.event_type,
    PasswordResetRequested.event_type,
    UserErased.event_type,
)
"""The user events after which this process has something to do (an email may be due; an
erased user's key must be gone): all it is handed (the reader's FilterCriteria in
template.yaml, checked against this by tests)."""


def welcome_key(user_id: str) -> str:
    return f"welcome-{user_id}"


def reset_key(reset_id: str) -> str:
    return f"reset-{reset_id}"


class UserMail(ProcessManager[User, Mail]):
    aggregate = User

    def __init__(
        self,
        repository: EventSourcedRepository,
        mailer: Mailer,
        tokens: ResetTokens,
        reset_link: Callable[[str], str],
        forget: Callable[[str], None],
    ) -> None:
        """`reset_link(token)`: the page a link opens, `<API URL>/reset-password?token=`;
        `forget(user_id)` destroys the user's data key (idempotent)."""
        super().__init__(repository)
        self.mailer = mailer
        self.tokens = tokens
        self.reset_link = reset_link
        self.forget = forget

    def outside(self, user: User) -> Mail | None:
        """Every step of this process mails: each runs from the queue, none in the stream."""
        return user.next_mail(self.repository.clock.now()) if user.exists else None

    def next_step(self, user: User) -> Decision[Mail]:
        """Send the email the user is due, if any; answers which one was sent. For an
        erased user, destroy their data key (again): the erasure's own request does it
        first, and this makes it happen at least once even if that request failed after
        recording the erasure."""
        if user.state.erased:
            self.forget(user.id)
            return Decision()
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
