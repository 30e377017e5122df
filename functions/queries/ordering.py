"""Ordering views: an order (its owner or an admin), orders newest first, an order's
events, stock levels (admin)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from domain.access import require_admin, require_caller
from domain.errors import NotFound
from domain.ordering.views import inventory_view, order_doc, orders_of, visible_to
from functions.models import History, OrderAnswer, OrderList, StockLevels
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


@route(
    router,
    "GET",
    "/orders/<id>",
    signed_in=True,
    summary="One order (its owner or an admin)",
    tags=["orders"],
    responses=responses(200, OrderAnswer, 401, 404, 503, etag=True),
)
def order(services: Services, id: str, min_version: MinVersion = None) -> Response[OrderAnswer]:
    caller = require_caller(caller_of(router))
    views = services.live("ordering")
    # Visibility is checked once the view is there: another's order is a 404, never a 503.
    from domain.ordering.order import Order

    doc = read_view(
        lambda: order_doc(views, id),
        min_version,
        head=lambda: services.repository.head(Order, id),
        admit=lambda doc: visible_to(doc, caller),
    )
    return view_response(visible_to(doc, caller))


@route(
    router,
    "GET",
    "/orders",
    signed_in=True,
    summary="Orders, newest first: your own; an admin's: anyone's (?customer_id=)",
    tags=["orders"],
    responses=responses(200, OrderList, 400, 401),
)
def orders(
    services: Services,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[OrderList]:
    caller = require_caller(caller_of(router))
    views = services.live("ordering")
    items, next_cursor = orders_of(views, caller, customer_id, limit=limit, cursor=cursor)
    return json_response({"items": items, "next_cursor": next_cursor})


@route(
    router,
    "GET",
    "/orders/<id>/history",
    signed_in=True,
    summary="The order's events (its owner or an admin)",
    tags=["orders"],
    responses=responses(200, History, 404),
)
def order_history(services: Services, id: str) -> Response[History]:
    from domain.history import entry
    from domain.ordering.order import Order
    from domain.ordering.service import order

    caller = caller_of(router)
    order(services.repository, id, caller)  # 404 unless the owner or an admin
    events = services.repository.history(Order, id)
    return json_response({"events": [entry(e, caller) for e in events]})


@route(
    router,
    "GET",
    "/inventory/<product_id>",
    signed_in=True,
    summary="A product's stock: on hand, reserved, available (admin)",
    tags=["inventory"],
    responses=responses(200, StockLevels, 401, 403, 404, 503, etag=True),
)
def inventory(
    services: Services, product_id: str, min_version: MinVersion = None
) -> Response[StockLevels]:
    require_admin(caller_of(router))
    views = services.live("ordering")
    from domain.ordering.inventory import Inventory

    doc = read_view(
        lambda: inventory_view(views, product_id),
        min_version,
        head=lambda: services.repository.head(Inventory, product_id),
    )
    if doc["version"] == 0 and services.product_catalog.product(product_id) is None:
        # never counted: is it a product at all? The catalogue's own stream says (one Query)
        raise NotFound("No such product.", code="product_not_found")
    return view_response(doc)


app, handler = http_function(router)
