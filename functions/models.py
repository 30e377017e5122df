"""Request and response bodies: strict shapes only (types, required and unknown fields).
The business rules on their values live in domain/."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """A request body: no unknown fields, no coercion ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Credentials(Body):
    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(max_length=1024, examples=["correct horse battery"])


class NewPassword(Body):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class UserCreated(BaseModel):
    id: str
    email: str
    version: int


class TokenIssued(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    version: int


class Versioned(BaseModel):
    id: str
    version: int


class Profile(BaseModel):
    id: str
    email: str
    role: str
    is_active: bool
    created_at: str
    last_login: str | None
    version: int


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, str]]


class ErrorAnswer(BaseModel):
    error: ErrorBody
