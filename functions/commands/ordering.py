"""Ordering commands: orders and their items, placing, cancelling, stock counts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

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
from domain.ordering.service import OrderingService
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
from functions.shared.auth import authenticate_first
from functions.shared.bodies import readable_bodies
from functions.shared.commands import Call, command
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
ORDERS = ["orders"]
OWNER = (400, 401, 403, 404, 412, 422)


def _ordering() -> OrderingService:
    from infra.container import container

    return container().ordering


def _order(order: Order) -> dict[str, Any]:
    return present_order(order)


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
def create_order(body: NewOrder, call: Call) -> dict[str, Any]:
    items = tuple(RequestedItem(i.product_id, i.quantity) for i in body.items)
    return _order(_ordering().create_order(CreateOrder(items), call.context))


@command(
    router,
    "POST",
    "/orders/<id>/items",
    OrderAnswer,
    *OWNER,
    summary="Add a product to a draft order (adds to its quantity if present)",
    tags=ORDERS,
)
def add_item(id: str, body: Line, call: Call) -> dict[str, Any]:
    return _order(_ordering().add_item(AddItem(id, body.product_id, body.quantity), *call))


@command(
    router,
    "DELETE",
    "/orders/<id>/items/<product_id>",
    OrderAnswer,
    *OWNER,
    summary="Remove a product from a draft order",
    tags=ORDERS,
)
def remove_item(id: str, product_id: str, call: Call) -> dict[str, Any]:
    return _order(_ordering().remove_item(RemoveItem(id, product_id), *call))


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
def place(id: str, body: Placement, call: Call) -> dict[str, Any]:
    order = _ordering().place(PlaceOrder(id, body.payment_method), *call)
    return {"id": order.id, "status": order.state.status.value, "version": order.version}


@command(
    router,
    "POST",
    "/orders/<id>/cancel",
    Cancelled,
    *OWNER,
    summary="Cancel an order (draft, placed or confirmed): stock released, charge refunded",
    tags=ORDERS,
)
def cancel(id: str, call: Call) -> dict[str, Any]:
    order = _ordering().cancel(CancelOrder(id), *call)
    reason = order.state.reason
    return {
        "id": order.id,
        "status": order.state.status.value,
        "reason": reason.value if reason else None,
        "version": order.version,
    }


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
def set_stock(product_id: str, body: StockCount, call: Call) -> dict[str, Any]:
    inventory = _ordering().set_stock(SetStock(product_id, body.on_hand), *call)
    stock = inventory.state
    return {
        "product_id": product_id,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "available": stock.on_hand - stock.reserved,
        "version": inventory.version,
    }


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
