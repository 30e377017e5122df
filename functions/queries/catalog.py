"""Catalogue views: categories, products, search, discounts, and (admins) history and
time travel. Public reads show active products only; admins see inactive ones too."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from domain.catalog import history, search
from domain.catalog.product import MAX_DISCOUNT, discounted
from domain.catalog.views import (
    all_categories,
    category_view,
    count_products,
    product_view,
    search_products,
    visible_product,
)
from domain.errors import Detail, InvalidValue
from domain.product_stats import stats_of
from event_sourcing.events import parse_iso
from functions.models import (
    CategoryAnswer,
    CategoryList,
    DiscountedPrice,
    History,
    ProductAsOf,
    ProductList,
    ProductStats,
    ProductView,
)
from functions.shared.http import (
    MinVersion,
    Routes,
    Services,
    caller_of,
    http_function,
    json_response,
    read_view,
    route,
    view_response,
)
from functions.shared.openapi import responses

router = Routes()

MAX_PRICE_FILTER = Decimal(10) ** 9
"""Above any price: a filter beyond it (1e999) is a client's mistake, not an empty page."""
Price = Annotated[str | None, Query(max_length=20, description="A decimal, like 19.99")]


def _is_admin() -> bool:
    caller = caller_of(router)
    return caller is not None and caller.is_admin


@route(
    router,
    "GET",
    "/categories",
    signed_in=False,
    summary="Categories sorted by name, with their count of active products (paginated)",
    tags=["catalogue"],
    responses=responses(200, CategoryList),
)
def categories(
    services: Services,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[CategoryList]:
    page = all_categories(services.live("catalog"), limit=limit, cursor=cursor)
    return json_response({"items": page.items, "next_cursor": page.cursor})


@route(
    router,
    "GET",
    "/categories/<id>",
    signed_in=False,
    summary="One category, with its count of active products",
    tags=["catalogue"],
    responses=responses(200, CategoryAnswer, 400, 404, 503, etag=True),
)
def category(
    services: Services, id: str, min_version: MinVersion = None
) -> Response[CategoryAnswer]:
    from domain.catalog.category import Category

    views = services.live("catalog")
    doc = read_view(
        lambda: category_view(views, id),
        min_version,
        head=lambda: services.repository.head(Category, id),
    )
    return view_response(doc)


@route(
    router,
    "GET",
    "/products",
    signed_in=False,
    summary="Search active products by substring, category and price; sorted by name",
    tags=["catalogue"],
    responses=responses(200, ProductList, 400),
)
def products(
    services: Services,
    q: Annotated[str, Query(max_length=search.MAX_QUERY_LENGTH)] = "",
    category_id: Annotated[str | None, Query(max_length=64)] = None,
    min_price: Price = None,
    max_price: Price = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    with_total: Annotated[
        bool,
        Query(
            description="true: add the number of products matching the whole search: "
            "total_count, exact when the collection the search reads holds at most "
            f"{search.TOTAL_BOUND:,} index entries, else total_count_at_least, the matches "
            f"among its first {search.TOTAL_BOUND:,} (costlier than a page, bounded)"
        ),
    ] = False,
) -> Response[ProductList]:
    from event_sourcing import cursors
    from event_sourcing.views import InvalidCursor

    criteria = search.Criteria(
        q, category_id, _price(min_price, "min_price"), _price(max_price, "max_price")
    )
    views = services.live("catalog")
    after = collection = None
    if cursor is not None:
        # A cursor keeps the collection its first page chose (trigram counts may move).
        opened = cursors.open_(cursor, expect={}, keys={"p", "a"})
        if not criteria.continues_in(opened["p"]):
            raise InvalidCursor("The cursor does not belong to this query.")
        collection, after = opened["p"], opened["a"]
    page = search_products(views, criteria, limit=limit, after=after, collection=collection)
    next_cursor = (
        cursors.seal({"p": page.collection, "a": page.last_sort}) if page.last_sort else None
    )
    answer: dict[str, Any] = {"items": page.items, "next_cursor": next_cursor}
    if with_total:
        total = count_products(views, criteria, collection=page.collection)
        answer["total_count" if total.exact else "total_count_at_least"] = total.count
    return json_response(answer)


@route(
    router,
    "GET",
    "/products/<id>",
    signed_in=False,
    summary="One product (an inactive one only to admins)",
    tags=["catalogue"],
    responses=responses(200, ProductView, 401, 404, 503, etag=True),
)
def product(services: Services, id: str, min_version: MinVersion = None) -> Response[ProductView]:
    from domain.catalog.product import Product

    views, admin = services.live("catalog"), _is_admin()
    doc = read_view(
        lambda: product_view(views, id, admin=True),
        min_version,
        head=lambda: services.repository.head(Product, id),
        admit=lambda doc: visible_product(doc, admin=admin),
    )
    return view_response(visible_product(doc, admin=admin))


@route(
    router,
    "GET",
    "/products/<id>/discounted-price",
    signed_in=False,
    summary="The product's price less a discount of 0 to 50 percent",
    tags=["catalogue"],
    responses=responses(200, DiscountedPrice, 404),
)
def discounted_price(
    services: Services,
    id: str,
    percentage: Annotated[
        str,
        Query(
            max_length=20,
            pattern=r"^\d+(\.\d+)?$",
            description=f"The discount, a number from 0 to {MAX_DISCOUNT} (else 400)",
            examples=["10"],
        ),
    ],
) -> Response[DiscountedPrice]:
    doc = product_view(services.live("catalog"), id, admin=_is_admin())
    percent = _number(percentage, "percentage")  # its range is the domain's rule
    price = discounted(Decimal(doc["price"]), percent)
    return json_response(
        {
            "id": id,
            "price": doc["price"],
            "percentage": str(percent),
            "discounted_price": str(price),
        }
    )


@route(
    router,
    "GET",
    "/products/<id>/history",
    signed_in=True,
    summary="Every event of the product, with who and when (admin)",
    tags=["catalogue"],
    responses=responses(200, History, 403, 404),
)
def product_history(services: Services, id: str) -> Response[History]:
    events = history.history(services.repository, caller_of(router), id)
    return json_response({"events": events})


@route(
    router,
    "GET",
    "/products/<id>/stats",
    signed_in=True,
    summary="The product's confirmed orders, units sold, revenue and ratings (admin)",
    tags=["catalogue"],
    responses=responses(200, ProductStats, 403, 404),
)
def product_stats(services: Services, id: str) -> Response[ProductStats]:
    stats = stats_of(
        caller_of(router), services.live("catalog"), services.live("product-stats"), id
    )
    return json_response(stats)


@route(
    router,
    "GET",
    "/products/<id>/as-of",
    signed_in=True,
    summary="The product rebuilt from its events up to ?version=N or ?at=<time> (admin)",
    tags=["catalogue"],
    responses=responses(200, ProductAsOf, 403, 404),
)
def product_as_of(
    services: Services,
    id: str,
    version: Annotated[int | None, Query(ge=1)] = None,
    at: Annotated[str | None, Query(max_length=40)] = None,
) -> Response[ProductAsOf]:
    moment = None
    if at is not None:
        try:
            moment = parse_iso(at)
        except ValueError as bad:
            raise InvalidValue(
                "at must be an ISO 8601 time, like 2026-01-31T12:00:00Z.",
                code="invalid_time",
                details=[Detail("at", "ISO 8601")],
            ) from bad
    state = history.as_of(services.repository, caller_of(router), id, version=version, at=moment)
    return json_response(state)


def _number(raw: str, field: str) -> Decimal:
    try:
        return Decimal(raw)
    except InvalidOperation as bad:
        raise InvalidValue(
            f"{field} must be a decimal number.",
            code="invalid_number",
            details=[Detail(field, "a decimal")],
        ) from bad


def _decimal(raw: str, field: str) -> Decimal:
    value = _number(raw, field)
    if not value.is_finite() or value < 0 or value >= MAX_PRICE_FILTER:
        raise InvalidValue(
            f"{field} must be a number from 0 to {MAX_PRICE_FILTER - 1}.",
            code="invalid_number",
            details=[Detail(field, f"0 to {MAX_PRICE_FILTER - 1}")],
        )
    return value


def _price(raw: str | None, field: str) -> Decimal | None:
    return None if raw is None else _decimal(raw, field)


app, handler = http_function(router)
