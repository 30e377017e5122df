"""Ordering commands: orders and their items, placing, cancelling, stock counts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
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
from domain.shared.context import CommandContext
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
from functions.shared.auth import authenticate_first, route
from functions.shared.bodies import readable_bodies
from functions.shared.commands import run_command
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point
from functions.shared.openapi import responses

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
OWNER = (400, 401, 403, 404, 412, 422)


def _ordering() -> OrderingService:
    from infra.container import container

    return container().ordering


def _order(order: Order) -> dict[str, Any]:
    return present_order(order)


@route(
    router,
    "POST",
    "/orders",
    signed_in=True,
    summary="Start an order (a draft); prices come from the catalogue",
    tags=["orders"],
    responses=responses(201, OrderAnswer, 400, 401, 422),
)
def create_order(body: NewOrder) -> Response[OrderAnswer]:
    def decide(context: CommandContext, _: int | None) -> dict[str, Any]:
        items = tuple(RequestedItem(i.product_id, i.quantity) for i in body.items)
        return _order(_ordering().create_order(CreateOrder(items), context))

    return run_command(router, body.model_dump(), decide, status=201)


@route(
    router,
    "POST",
    "/orders/<id>/items",
    signed_in=True,
    summary="Add a product to a draft order (adds to its quantity if present)",
    tags=["orders"],
    responses=responses(200, OrderAnswer, *OWNER),
)
def add_item(id: str, body: Line) -> Response[OrderAnswer]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        command = AddItem(id, body.product_id, body.quantity)
        return _order(_ordering().add_item(command, context, expected))

    return run_command(router, {"id": id, **body.model_dump()}, decide)


@route(
    router,
    "DELETE",
    "/orders/<id>/items/<product_id>",
    signed_in=True,
    summary="Remove a product from a draft order",
    tags=["orders"],
    responses=responses(200, OrderAnswer, *OWNER),
)
def remove_item(id: str, product_id: str) -> Response[OrderAnswer]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        return _order(_ordering().remove_item(RemoveItem(id, product_id), context, expected))

    return run_command(router, {"id": id, "product_id": product_id}, decide)


@route(
    router,
    "POST",
    "/orders/<id>/place",
    signed_in=True,
    summary="Place the order: stock, payment, confirmation and email follow asynchronously",
    tags=["orders"],
    responses=responses(202, Placed, *OWNER),
)
def place(id: str, body: Placement) -> Response[Placed]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        order = _ordering().place(PlaceOrder(id, body.payment_method), context, expected)
        return {"id": order.id, "status": order.state.status.value, "version": order.version}

    return run_command(router, {"id": id, **body.model_dump()}, decide, status=202)


@route(
    router,
    "POST",
    "/orders/<id>/cancel",
    signed_in=True,
    summary="Cancel an order (draft, placed or confirmed): stock released, charge refunded",
    tags=["orders"],
    responses=responses(200, Cancelled, *OWNER),
)
def cancel(id: str) -> Response[Cancelled]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        order = _ordering().cancel(CancelOrder(id), context, expected)
        return {
            "id": order.id,
            "status": order.state.status.value,
            "reason": order.state.reason.value if order.state.reason else None,
            "version": order.version,
        }

    return run_command(router, {"id": id}, decide)


@route(
    router,
    "PUT",
    "/inventory/<product_id>",
    signed_in=True,
    summary="Count a product's stock on hand (admin)",
    tags=["inventory"],
    responses=responses(200, StockLevels, 400, 401, 403, 404, 412, 422),
)
def set_stock(product_id: str, body: StockCount) -> Response[StockLevels]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        inventory = _ordering().set_stock(SetStock(product_id, body.on_hand), context, expected)
        state = inventory.state
        return {
            "product_id": product_id,
            "on_hand": state.on_hand,
            "reserved": state.reserved,
            "available": state.on_hand - state.reserved,
            "version": inventory.version,
        }

    return run_command(router, {"product_id": product_id, **body.model_dump()}, decide)


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
