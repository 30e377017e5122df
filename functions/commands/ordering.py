"""Ordering commands: orders and their items, placing, cancelling, stock counts."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request

from domain.ordering import service as ordering
from domain.ordering.commands import (
    AddItem,
    CancelOrder,
    CreateOrder,
    PlaceOrder,
    RemoveItem,
    RequestedItem,
    SetStock,
)
from domain.ordering.order import Order
from domain.ordering.ports import PaymentGateway, ProductCatalog
from domain.ordering.views import present_order
from functions.models import (
    Cancelled,
    Line,
    NewOrder,
    OrderAnswer,
    Placed,
    Placement,
    StockCount,
    StockLevels,
)
from functions.shared.http import Calling, Repository, Routes, command, http_function, root_of

router = Routes()
ORDERS = ["orders"]
OWNER = (400, 401, 403, 404, 412, 422)


def _catalog(request: Request) -> ProductCatalog:
    return root_of(request).product_catalog


def _payments(request: Request) -> PaymentGateway:
    return root_of(request).payments


Catalog = Annotated[ProductCatalog, Depends(_catalog)]
"""A route's parameter: what the catalogue tells ordering of a product."""
Payments = Annotated[PaymentGateway, Depends(_payments)]
"""A route's parameter: the payment gateway."""


def _order(order: Order) -> OrderAnswer:
    return OrderAnswer.model_validate(present_order(order))


@command(
    router,
    "POST",
    "/orders",
    OrderAnswer,
    400,
    401,
    422,
    status=201,
    summary="Start an order (a draft); prices come from the catalogue",
    tags=ORDERS,
)
def create_order(
    body: NewOrder, call: Calling, repository: Repository, catalog: Catalog
) -> OrderAnswer:
    items = tuple(RequestedItem(i.product_id, i.quantity) for i in body.items)
    return _order(ordering.create_order(repository, catalog, CreateOrder(items), call.context))


@command(
    router,
    "POST",
    "/orders/<id>/items",
    OrderAnswer,
    *OWNER,
    summary="Add a product to a draft order (adds to its quantity if present)",
    tags=ORDERS,
)
def add_item(
    id: str, body: Line, call: Calling, repository: Repository, catalog: Catalog
) -> OrderAnswer:
    item = AddItem(id, body.product_id, body.quantity)
    return _order(ordering.add_item(repository, catalog, item, *call))


@command(
    router,
    "DELETE",
    "/orders/<id>/items/<product_id>",
    OrderAnswer,
    *OWNER,
    summary="Remove a product from a draft order",
    tags=ORDERS,
)
def remove_item(id: str, product_id: str, call: Calling, repository: Repository) -> OrderAnswer:
    return _order(ordering.remove_item(repository, RemoveItem(id, product_id), *call))


@command(
    router,
    "POST",
    "/orders/<id>/place",
    Placed,
    *OWNER,
    status=202,
    summary="Place the order: stock, payment, confirmation and email follow asynchronously",
    tags=ORDERS,
)
def place(
    id: str,
    body: Placement,
    call: Calling,
    repository: Repository,
    catalog: Catalog,
    payments: Payments,
) -> Placed:
    placing = PlaceOrder(id, body.payment_method)
    order = ordering.place(repository, catalog, payments, placing, *call)
    return Placed(id=order.id, status=order.state.status.value, version=order.version)


@command(
    router,
    "POST",
    "/orders/<id>/cancel",
    Cancelled,
    *OWNER,
    summary="Cancel an order (draft, placed or confirmed): stock released, charge refunded",
    tags=ORDERS,
)
def cancel(id: str, call: Calling, repository: Repository) -> Cancelled:
    order = ordering.cancel(repository, CancelOrder(id), *call)
    reason = order.state.reason
    return Cancelled(
        id=order.id,
        status=order.state.status.value,
        reason=reason.value if reason else None,
        version=order.version,
    )


@command(
    router,
    "PUT",
    "/inventory/<product_id>",
    StockLevels,
    400,
    401,
    403,
    404,
    412,
    422,
    summary="Count a product's stock on hand (admin)",
    tags=["inventory"],
)
def set_stock(
    product_id: str, body: StockCount, call: Calling, repository: Repository, catalog: Catalog
) -> StockLevels:
    count = SetStock(product_id, body.on_hand)
    stock = ordering.set_stock(repository, catalog, count, *call)
    return StockLevels(
        product_id=product_id,
        on_hand=stock.on_hand,
        reserved=stock.reserved,
        available=stock.available,
        version=stock.version,
    )


app, handler = http_function(router)
