"""Identity use cases: load -> decide -> append, one plain function each, over the kit's
repository and the ports a use case needs (the password hasher, the token issuer, the
attempt counters, the reset tokens, the keyed hash of addresses).

`forget(user_id)`, which erasure takes, destroys the user's data key (crypto-shredding):
every personal field sealed for them becomes unreadable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from domain.access import Caller, CommandContext, Role
from domain.errors import Conflict, NotFound, RuleViolation, TooManyAttempts, Unauthenticated
from domain.identity.commands import (
    ChangePassword,
    Deactivate,
    EraseUser,
    IssueToken,
    Register,
    RequestPasswordReset,
    ResetPassword,
)
from domain.identity.credentials import email_key
from domain.identity.ports import (
    AccessToken,
    AttemptCounter,
    PasswordHasher,
    Pseudonyms,
    ResetTokens,
    TokenIssuer,
)
from domain.identity.user import INVALID_RESET, LAST_SIGN_IN, Standing, User
from event_sourcing.errors import StreamNotFound, UniquenessViolation
from event_sourcing.events import iso
from event_sourcing.guards import Claim
from event_sourcing.repository import Decision, EventSourcedRepository

EMAIL_CLAIM = "email"
MAX_FAILED_LOGINS = 5
"""Failed sign-ins for one email from one source address, per window."""
MAX_FAILED_LOGINS_PER_SOURCE = 50
"""Failed sign-ins from one source address, whatever the emails (password spraying)."""
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
MAX_RESET_REQUESTS = 3
"""Password-reset requests for one email from one source address, per window: enough for
a lost email, too few to flood someone's mailbox."""
MAX_RESET_REQUESTS_PER_SOURCE = 30
MAX_RESET_REQUESTS_PER_EMAIL = 10
"""For one email from anywhere: rotating addresses does not flood a mailbox either."""
RESET_ANSWER_SECONDS = 0.3
"""A reset request is answered no sooner than this, known email or not (the edge waits):
well above what a known one costs more, one read and one write."""
BAD_CREDENTIALS = "The email or the password is not correct."


@dataclass(frozen=True)
class Issued:
    token: AccessToken
    user: User


def register(
    repository: EventSourcedRepository,
    hasher: PasswordHasher,
    pseudonyms: Pseudonyms,
    command: Register,
    context: CommandContext,
    role: Role = Role.CUSTOMER,
) -> User:
    """A new user; its email is claimed in the same write, so it is unique."""
    user = User.register(
        repository.ids.new_id(),
        command.email,
        command.password,
        hasher,
        repository.clock.now(),
        role,
        welcome=role is Role.CUSTOMER,
    )
    key = email_key(user.state.email)
    if repository.store.claim_owner(EMAIL_CLAIM, key) is not None:
        # Claimed in clear by a release before pseudonyms: that set only shrinks, so
        # this read cannot race a new claim.
        raise Conflict("An account with this email already exists.", code="email_taken")
    claim = Claim(EMAIL_CLAIM, pseudonyms.of(key), user.stream_id)
    try:
        repository.save(user, context=context, claims=[claim])
    except UniquenessViolation as taken:
        raise Conflict("An account with this email already exists.", code="email_taken") from taken
    return user


def issue_token(
    repository: EventSourcedRepository,
    hasher: PasswordHasher,
    tokens: TokenIssuer,
    attempts: AttemptCounter,
    pseudonyms: Pseudonyms,
    command: IssueToken,
    context: CommandContext,
) -> Issued:
    """The seed's authenticate + record_login, with caps on failed attempts per (email,
    source address) and per source address: failures from elsewhere never lock the
    owner out, and one address cannot spray passwords over many emails. One read of
    the user's stream; the sign-in is noted beside it (`LAST_SIGN_IN`), not recorded
    in it."""
    key = email_key(command.email)
    pair, source = _pair(pseudonyms, key, command.source), pseudonyms.of(command.source)
    found = _find_by_email(repository, pseudonyms, key)
    # The lockout guards a password: counted under the user's credentials version, so a
    # reset (or any change) of the password starts the count afresh, from every address.
    generation = found.state.credentials_version if found is not None else 0
    throttle_key = _throttle_key(repository, f"{pair}#{generation}")
    source_key = _throttle_key(repository, f"source#{source}")
    if attempts.count(throttle_key) >= MAX_FAILED_LOGINS:
        raise TooManyAttempts(
            "Too many failed sign-ins for this email from this address: wait and try again.",
            retry_after_seconds=_seconds_left_in_window(repository),
        )
    if attempts.count(source_key) >= MAX_FAILED_LOGINS_PER_SOURCE:
        raise TooManyAttempts(
            "Too many failed sign-ins from this address: wait and try again.",
            retry_after_seconds=_seconds_left_in_window(repository),
        )

    def failed() -> Unauthenticated:
        for counted in (throttle_key, source_key):
            attempts.increment(counted, ttl_seconds=FAILED_LOGIN_WINDOW_SECONDS)
        return Unauthenticated(BAD_CREDENTIALS, code="invalid_credentials")

    if found is None:
        hasher.verify_nothing(command.password)
        raise failed()
    if not found.password_matches(command.password, hasher):
        raise failed()
    # A sign-in changes nothing of the user: no event, no new version (an If-Match
    # taken before it still holds). Its time is a note beside the stream.
    repository.note(User, found.id, LAST_SIGN_IN, iso(repository.clock.now()))
    attempts.reset(throttle_key)
    return Issued(tokens.issue(found.id, found.state.credentials_version), found)


def change_password(
    repository: EventSourcedRepository,
    hasher: PasswordHasher,
    command: ChangePassword,
    context: CommandContext,
    expected_version: int | None = None,
) -> User:
    caller = context.require_caller()

    return repository.transact(
        User,
        caller.user_id,
        lambda user: user.change_password(
            command.old_password, command.new_password, hasher, repository.clock.now()
        ),
        context=context,
        expected_version=expected_version,
        load=partial(_user, repository),
    ).aggregate


def request_password_reset(
    repository: EventSourcedRepository,
    attempts: AttemptCounter,
    pseudonyms: Pseudonyms,
    command: RequestPasswordReset,
    context: CommandContext,
) -> None:
    """The seed's password reset, first half: a known, active user is mailed a link
    (by the user-mail process, from the stream); anyone else, nothing. The caller is
    told the same either way. Requests are counted for known and unknown emails alike,
    so the throttle tells nothing either."""
    key = email_key(command.email)
    email, source = pseudonyms.of(key), pseudonyms.of(command.source)
    for counted, limit in (
        (_reset_key(repository, _pair(pseudonyms, key, command.source)), MAX_RESET_REQUESTS),
        (_reset_key(repository, f"source#{source}"), MAX_RESET_REQUESTS_PER_SOURCE),
        (_reset_key(repository, f"email#{email}"), MAX_RESET_REQUESTS_PER_EMAIL),
    ):
        if attempts.increment(counted, ttl_seconds=FAILED_LOGIN_WINDOW_SECONDS) > limit:
            raise TooManyAttempts(
                "Too many password-reset requests for this email or from this address: "
                "wait and try again.",
                retry_after_seconds=_seconds_left_in_window(repository),
            )
    found = _find_by_email(repository, pseudonyms, key)
    if found is None:
        return
    reset_id = repository.ids.new_id()
    repository.transact(
        User,
        found.id,
        lambda user: user.request_password_reset(reset_id, repository.clock.now()),
        context=context,
        load=_first(found, partial(_user, repository)),
    )


def reset_password(
    repository: EventSourcedRepository,
    hasher: PasswordHasher,
    reset_tokens: ResetTokens,
    command: ResetPassword,
    context: CommandContext,
    expected_version: int | None = None,
) -> User:
    """The second half: the link's token sets a new password, once, within 30 minutes,
    unless the password changed since; every older access token stops working. A token
    that does not work is refused before anything else is said (If-Match's 412 included:
    it would tell anyone the user exists, and its version)."""
    now = repository.clock.now()

    def matches(user: User) -> Callable[[str], bool]:
        return lambda reset_id: reset_tokens.matches(command.token, user.id, reset_id)

    def load(user_id: str) -> User:
        user = repository.load(User, user_id)
        if not user.exists or not user.reset_token_works(matches(user), now):
            raise RuleViolation(INVALID_RESET, code="reset_token_invalid")
        return user

    user_id = reset_tokens.user_of(command.token)
    if user_id is None:
        raise RuleViolation(INVALID_RESET, code="reset_token_invalid")
    found = load(user_id)
    return repository.transact(
        User,
        user_id,
        lambda user: user.reset_password(matches(user), command.new_password, hasher, now),
        context=_as(context, found),
        expected_version=expected_version,
        load=_first(found, load),
    ).aggregate


def deactivate(
    repository: EventSourcedRepository,
    command: Deactivate,
    context: CommandContext,
    expected_version: int | None = None,
) -> User:
    admin = context.require_admin()

    return repository.transact(
        User,
        command.user_id,
        lambda user: user.deactivate(admin.user_id, repository.clock.now()),
        context=context,
        expected_version=expected_version,
        load=partial(_user, repository),
    ).aggregate


def erase(
    repository: EventSourcedRepository,
    hasher: PasswordHasher,
    attempts: AttemptCounter,
    pseudonyms: Pseudonyms,
    forget: Callable[[str], None],
    command: EraseUser,
    context: CommandContext,
) -> User:
    """Forget a user (the right to erasure): the customer themself, with their password,
    or an admin. In one write: `UserErased` (their tokens stop, sign-in fails) and the
    release of their email's claim (the address can register again); then their data
    key is destroyed, so every personal field sealed for them reads as erased, in the
    events, the stream and the backups alike. The events stay and replay. Last, the
    sign-in and reset counters that name the address alone are deleted (those of an
    address with a source are keyed by both and expire with their window).

    Erasing an erased user again records nothing and destroys the key again: an admin's
    retry finishes an erasure whose key destruction failed."""
    caller = context.require_caller()
    if command.password is None or caller.user_id != command.user_id:
        context.require_admin()  # an admin's erasure, of anyone (themself too): no password
    user = _user(repository, command.user_id)
    if command.password is not None and not user.password_matches(command.password, hasher):
        raise Unauthenticated("The password is not correct.", code="invalid_credentials")
    key = email_key(user.state.email)
    now = repository.clock.now()

    def decide(user: User) -> Decision[None] | None:
        if user.state.erased:
            return None
        user.erase(caller.user_id, now)
        claims = [
            Claim(EMAIL_CLAIM, pseudonyms.of(key), user.stream_id).release(),
            # a claim taken in clear before pseudonyms (releasing none is a no-op)
            Claim(EMAIL_CLAIM, key, user.stream_id).release(),
        ]
        return Decision(claims=claims)

    erased = repository.transact(
        User,
        command.user_id,
        decide,
        context=context,
        load=_first(user, partial(_user, repository)),
    ).aggregate
    forget(command.user_id)
    if key:
        email = pseudonyms.of(key)
        window = _window(repository)
        for counted in (window, window - 1):  # this window's and the last, not yet expired
            attempts.reset(_reset_key(repository, f"email#{email}", counted))
    return erased


def authenticate(repository: EventSourcedRepository, tokens: TokenIssuer, token: str) -> Caller:
    """The caller behind a bearer token, checked against the user's current standing
    (its published state: one small read): a deactivation or a password change refuses
    older tokens at once, being written in the same transaction as its event."""
    claims = tokens.verify(token)
    standing = _standing(repository, claims.user_id)
    if standing is None:
        raise Unauthenticated("This token names no user.", code="token_invalid")
    if not standing.active:
        raise Unauthenticated("This account is deactivated.", code="user_deactivated")
    if claims.credentials_version != standing.credentials_version:
        raise Unauthenticated(
            "The password changed since this token was issued: sign in again.",
            code="token_revoked",
        )
    return Caller(claims.user_id, standing.role)


def _standing(repository: EventSourcedRepository, user_id: str) -> Standing | None:
    """The user's published standing; for a user last written before users published
    one (or of an older shape), the standing of the user loaded from its stream."""
    published = repository.published(User, user_id)
    standing = Standing.of(published) if published is not None else None
    if standing is not None:
        return standing
    user = repository.load(User, user_id)
    return user.standing if user.exists else None


def ensure_admin(
    repository: EventSourcedRepository,
    hasher: PasswordHasher,
    pseudonyms: Pseudonyms,
    email: str,
    password: str,
    context: CommandContext,
) -> User:
    """Create an admin, or make the existing user of that email one (idempotent)."""
    user = _find_by_email(repository, pseudonyms, email_key(email))
    if user is None:
        try:
            return register(
                repository, hasher, pseudonyms, Register(email, password), context, role=Role.ADMIN
            )
        except Conflict:
            user = _find_by_email(repository, pseudonyms, email_key(email))
            if user is None:
                raise
    user.grant(Role.ADMIN, by=context.user_id or "system")
    repository.save(user, context=context)
    return user


def _user(repository: EventSourcedRepository, user_id: str) -> User:
    try:
        return repository.get(User, user_id)
    except StreamNotFound:
        raise NotFound(f"No user has the id {user_id!r}.") from None


def _find_by_email(
    repository: EventSourcedRepository, pseudonyms: Pseudonyms, key: str
) -> User | None:
    store = repository.store
    owner = store.claim_owner(EMAIL_CLAIM, pseudonyms.of(key))
    if owner is None:  # claimed in clear, before pseudonyms (read once more)
        owner = store.claim_owner(EMAIL_CLAIM, key)
    if owner is None:
        return None
    user_id = owner.removeprefix(f"{User.stream_prefix}-")
    try:
        return repository.get(User, user_id)
    except StreamNotFound:
        return None


def _pair(pseudonyms: Pseudonyms, email_key: str, source: str) -> str:
    """The keyed hash of an (address, source) pair: a counter of both names neither, so
    what an erasure cannot find (every source an address was tried from) names no one."""
    return pseudonyms.of(f"pair#{email_key}#{source}")


def _window(repository: EventSourcedRepository) -> int:
    return int(repository.clock.now().timestamp()) // FAILED_LOGIN_WINDOW_SECONDS


def _throttle_key(repository: EventSourcedRepository, key: str) -> str:
    return f"login#{key}#{_window(repository)}"


def _reset_key(repository: EventSourcedRepository, key: str, window: int | None = None) -> str:
    return f"reset#{key}#{_window(repository) if window is None else window}"


def _seconds_left_in_window(repository: EventSourcedRepository) -> int:
    now = int(repository.clock.now().timestamp())
    return FAILED_LOGIN_WINDOW_SECONDS - now % FAILED_LOGIN_WINDOW_SECONDS


def _as(context: CommandContext, user: User) -> CommandContext:
    """A login or a reset is the user's own act: its events name that user."""
    return CommandContext(
        context.correlation_id, context.causation_id, Caller(user.id, user.state.role)
    )


def _first(loaded: User, reload: Callable[[str], User]) -> Callable[[str], User]:
    """A `load` that answers the user already loaded once, then `reload` (a retry after a
    concurrent write decides on fresh state): one read of the stream per command."""
    first = [loaded]

    def load(user_id: str) -> User:
        return first.pop() if first else reload(user_id)

    return load
