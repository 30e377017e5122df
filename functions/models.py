"""Request and response bodies: strict shapes only (types, required and unknown fields).
The business rules on their values live in domain/; the limits they enforce are described
here (`limits`, from the domain's own constants), so the OpenAPI document names them while
the refusal keeps the domain's code. The one exception is a string's length: `text` enforces
the domain's own maximum here (400 `invalid_request` naming the field), so what the document
says is what is refused, from one constant (tests/functions/test_body_limits.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from domain.catalog.category import MAX_CATEGORY_NAME
from domain.catalog.product import MAX_DESCRIPTION, MAX_PRICE, MAX_PRODUCT_NAME, MAX_REASON
from domain.catalog.review import MAX_COMMENT, MAX_RATING, MIN_RATING
from domain.catalog.search import SCAN, TOTAL_BOUND
from domain.identity.credentials import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_TOKEN_LENGTH,
    MIN_PASSWORD_LENGTH,
)
from domain.ordering.values import (
    MAX_ID_LENGTH,
    MAX_LINES,
    MAX_ON_HAND,
    MAX_PAYMENT_METHOD,
    MAX_QUANTITY,
)


def limits(**schema: Any) -> dict[str, Any]:
    """JSON Schema keywords for a limit the domain checks (documented, not enforced here)."""
    return {"json_schema_extra": schema}


def text(max_length: int, *, min_length: int | None = None, **field: Any) -> Any:
    """A string of at most `max_length` characters, the domain's constant: refused here
    beyond it, and so documented. `min_length` is documented only (the domain refuses a
    shorter one with its own code)."""
    if min_length is not None:
        field = {**field, **limits(minLength=min_length)}
    return Field(max_length=max_length, **field)


class Body(BaseModel):
    """A request body: no unknown fields, no coercion ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Credentials(Body):
    email: str = text(MAX_EMAIL_LENGTH, examples=["ada@example.com"])
    password: str = text(MAX_PASSWORD_LENGTH, examples=["correct horse battery"])


class NewUser(Body):
    email: str = text(MAX_EMAIL_LENGTH, examples=["ada@example.com"], **limits(format="email"))
    password: str = text(
        MAX_PASSWORD_LENGTH, min_length=MIN_PASSWORD_LENGTH, examples=["correct horse battery"]
    )


class NewPassword(Body):
    old_password: str = text(MAX_PASSWORD_LENGTH)
    new_password: str = text(MAX_PASSWORD_LENGTH, min_length=MIN_PASSWORD_LENGTH)


class Erasure(Body):
    password: str = text(MAX_PASSWORD_LENGTH, examples=["correct horse battery"])


class ResetRequest(Body):
    email: str = text(MAX_EMAIL_LENGTH, examples=["ada@example.com"])


class ResetConfirmation(Body):
    token: str = Field(
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        description="The `token` of the emailed reset link",
    )
    new_password: str = text(MAX_PASSWORD_LENGTH, min_length=MIN_PASSWORD_LENGTH)


class ResetAccepted(BaseModel):
    """The same answer whether the email is known or not."""

    status: str = Field(examples=["accepted"])
    message: str


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


class Placed(BaseModel):
    id: str
    status: str
    version: int


class Cancelled(BaseModel):
    id: str
    status: str
    reason: str | None
    version: int


class Deleted(BaseModel):
    id: str
    deleted: bool
    version: int


class ExportedProfile(BaseModel):
    """A profile as an export shows it (no version: an export is no view of one stream)."""

    id: str
    email: str
    role: str
    is_active: bool
    created_at: str
    last_login: str | None


class Profile(ExportedProfile):
    version: int


Money = Annotated[
    str,
    Field(
        pattern=r"^-?\d{1,12}(\.\d{1,2})?$",
        description="A decimal string with at most two places, above 0 and at most "
        f"{MAX_PRICE} (a price that is not: 400)",
        examples=["19.99"],
    ),
]


class NewCategory(Body):
    name: str = text(MAX_CATEGORY_NAME, min_length=1, examples=["Books"])
    allows_products: bool = True
    premium: bool = False


class NewProduct(Body):
    name: str = text(MAX_PRODUCT_NAME, min_length=1, examples=["Domain-Driven Design"])
    description: str = text(MAX_DESCRIPTION)
    price: Money
    category_id: str = text(MAX_ID_LENGTH)


class NewPrice(Body):
    price: Money


class Deactivation(Body):
    reason: str = text(MAX_REASON, min_length=1)


class NewReview(Body):
    rating: int = Field(description="1 to 5", **limits(minimum=MIN_RATING, maximum=MAX_RATING))
    comment: str = text(MAX_COMMENT)


class ProductAnswer(BaseModel):
    id: str
    version: int
    price: str
    is_active: bool
    requires_approval: bool


class CategoryAnswer(BaseModel):
    id: str
    name: str
    allows_products: bool
    premium: bool
    product_count: int
    version: int


class ProductView(BaseModel):
    id: str
    name: str
    description: str
    price: str
    category_id: str
    category_name: str | None
    is_active: bool
    requires_approval: bool
    average_rating: float | None
    review_count: int
    version: int
    created_at: str
    price_updated_at: str | None


class CategoryList(BaseModel):
    items: list[CategoryAnswer]
    next_cursor: str | None


class DiscountedPrice(BaseModel):
    id: str
    price: str
    percentage: str
    discounted_price: str


class ProductStats(BaseModel):
    """Sales of confirmed orders (a cancelled one no longer counts) and reviews."""

    orders_count: int
    units_sold: int
    revenue: str = Field(description="A decimal with two places, like 19.99")
    review_count: int
    average_rating: float | None
    ratings: dict[str, int] = Field(description='Reviews per rating, "1" to "5"')


class HistoryEntry(BaseModel):
    version: int
    type: str
    occurred_at: str
    data: dict[str, Any]
    metadata: dict[str, str | None] | None = Field(
        default=None,
        description="Who and why: event, correlation, causation and user ids "
        "(admins only; null for anyone else)",
    )


class History(BaseModel):
    events: list[HistoryEntry]


class ProductAsOf(BaseModel):
    id: str
    version: int
    as_of: str
    name: str
    description: str
    base_price: str
    price: str
    category_id: str
    is_active: bool
    requires_approval: bool
    created_at: str | None
    price_updated_at: str | None


class ProductList(BaseModel):
    items: list[ProductView]
    next_cursor: str | None = Field(
        description="Pass it back as ?cursor= for the next page; null on the last page. "
        f"Each page examines at most {SCAN} index entries, so a page may hold fewer than "
        "limit products, even none, and still have a next page"
    )
    total_count: int | None = Field(
        default=None,
        description="With ?with_total=true: how many products match the whole search "
        "(every page, not only this one), exact; given when the index collection the "
        f"search reads holds at most {TOTAL_BOUND:,} entries (else null, and "
        "total_count_at_least says how many at least); null without with_total",
    )
    total_count_at_least: int | None = Field(
        default=None,
        description="With ?with_total=true, instead of total_count when the search's index "
        f"collection holds more than {TOTAL_BOUND:,} entries (counting stops there, to "
        f"bound its cost): the products matching among the first {TOTAL_BOUND:,}, a lower "
        "bound of the total; null when total_count is exact, and without with_total",
    )


class Line(Body):
    product_id: str = text(MAX_ID_LENGTH, min_length=1)
    quantity: int = Field(**limits(minimum=1, maximum=MAX_QUANTITY))


class NewOrder(Body):
    items: list[Line] = Field(default_factory=list, max_length=50, **limits(maxItems=MAX_LINES))


class Placement(Body):
    payment_method: str = text(MAX_PAYMENT_METHOD, min_length=1, examples=["pm_card_visa"])


class StockCount(Body):
    on_hand: int = Field(**limits(minimum=0, maximum=MAX_ON_HAND))


class OrderAnswer(BaseModel):
    id: str
    customer_id: str
    status: str
    reason: str | None
    items: list[dict[str, str | int]]
    total: str
    version: int
    created_at: str | None
    placed_at: str | None = None
    confirmed_at: str | None = None
    cancelled_at: str | None = None


class ExportedReview(BaseModel):
    product_id: str
    rating: int
    comment: str
    posted_at: str | None


class ExportedEmail(BaseModel):
    kind: str = Field(description="welcome, password_reset, order_confirmed, order_cancelled")
    message_id: str
    order_id: str | None = None
    sent_at: str | None = None


class Export(BaseModel):
    """Everything the shop holds about you (the right of access and portability)."""

    profile: ExportedProfile
    orders: list[OrderAnswer]
    reviews: list[ExportedReview]
    emails: list[ExportedEmail]


class OrderList(BaseModel):
    items: list[OrderAnswer]
    next_cursor: str | None


class StockLevels(BaseModel):
    product_id: str
    on_hand: int
    reserved: int
    available: int
    version: int


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, str]]


class ErrorAnswer(BaseModel):
    error: ErrorBody
