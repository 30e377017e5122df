"""Catalogue commands: categories, products, their prices and states, reviews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from domain.catalog.commands import (
    ActivateProduct,
    ApproveProduct,
    ChangePrice,
    CreateCategory,
    CreateProduct,
    DeactivateProduct,
    DeleteProduct,
    PostReview,
)
from domain.catalog.product import Product
from domain.catalog.service import CatalogService
from domain.shared.context import CommandContext
from functions.models import (
    Deactivation,
    Deleted,
    NewCategory,
    NewPrice,
    NewProduct,
    NewReview,
    ProductAnswer,
    Versioned,
)
from functions.shared.auth import authenticate_first, route
from functions.shared.bodies import readable_bodies
from functions.shared.commands import run_command
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point
from functions.shared.openapi import responses

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
ADMIN = (400, 401, 403, 404, 409, 412, 422)


def _catalog() -> CatalogService:
    from infra.container import container

    return container().catalog


def _product(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "version": product.version,
        "price": str(product.state.price),
        "is_active": product.state.is_active,
        "requires_approval": product.state.requires_approval,
    }


@route(
    router,
    "POST",
    "/categories",
    signed_in=True,
    summary="Create a category (admin)",
    tags=["catalogue"],
    responses=responses(201, Versioned, 400, 401, 403, 409),
)
def create_category(body: NewCategory) -> Response[Versioned]:
    def decide(context: CommandContext, _: int | None) -> dict[str, Any]:
        command = CreateCategory(body.name, body.allows_products, body.premium)
        category = _catalog().create_category(command, context)
        return {"id": category.id, "name": category.state.name, "version": category.version}

    return run_command(router, body.model_dump(), decide, status=201)


@route(
    router,
    "POST",
    "/products",
    signed_in=True,
    summary="Create a product (admin); it starts inactive",
    tags=["catalogue"],
    responses=responses(201, ProductAnswer, 400, 401, 403, 409, 422),
)
def create_product(body: NewProduct) -> Response[ProductAnswer]:
    def decide(context: CommandContext, _: int | None) -> dict[str, Any]:
        command = CreateProduct(body.name, body.description, Decimal(body.price), body.category_id)
        return _product(_catalog().create_product(command, context))

    return run_command(router, body.model_dump(), decide, status=201)


@route(
    router,
    "PUT",
    "/products/<id>/price",
    signed_in=True,
    summary="Change a product's price (admin)",
    tags=["catalogue"],
    responses=responses(200, ProductAnswer, *ADMIN),
)
def change_price(id: str, body: NewPrice) -> Response[ProductAnswer]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        command = ChangePrice(id, Decimal(body.price))
        return _product(_catalog().change_price(command, context, expected))

    return run_command(router, {"id": id, **body.model_dump()}, decide)


@route(
    router,
    "POST",
    "/products/<id>/approve",
    signed_in=True,
    summary="Approve a product's price (admin)",
    tags=["catalogue"],
    responses=responses(200, ProductAnswer, *ADMIN),
)
def approve(id: str) -> Response[ProductAnswer]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        return _product(_catalog().approve(ApproveProduct(id), context, expected))

    return run_command(router, {"id": id}, decide)


@route(
    router,
    "POST",
    "/products/<id>/activate",
    signed_in=True,
    summary="Activate a product (admin); refused while approval is pending",
    tags=["catalogue"],
    responses=responses(200, ProductAnswer, *ADMIN),
)
def activate(id: str) -> Response[ProductAnswer]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        return _product(_catalog().activate(ActivateProduct(id), context, expected))

    return run_command(router, {"id": id}, decide)


@route(
    router,
    "POST",
    "/products/<id>/deactivate",
    signed_in=True,
    summary="Deactivate a product (admin), with a reason",
    tags=["catalogue"],
    responses=responses(200, ProductAnswer, *ADMIN),
)
def deactivate(id: str, body: Deactivation) -> Response[ProductAnswer]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        command = DeactivateProduct(id, body.reason)
        return _product(_catalog().deactivate(command, context, expected))

    return run_command(router, {"id": id, **body.model_dump()}, decide)


@route(
    router,
    "POST",
    "/products/<id>/reviews",
    signed_in=True,
    summary="Review a product (1 to 5); a second review replaces your first",
    tags=["catalogue"],
    responses=responses(201, Versioned, 400, 401, 404, 412),
)
def review(id: str, body: NewReview) -> Response[Versioned]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        posted = _catalog().review(PostReview(id, body.rating, body.comment), context, expected)
        return {
            "id": posted.id,
            "product_id": id,
            "rating": posted.state.rating,
            "version": posted.version,
        }

    return run_command(router, {"id": id, **body.model_dump()}, decide, status=201)


@route(
    router,
    "DELETE",
    "/products/<id>",
    signed_in=True,
    summary="Delete a product (admin); refused while any order holds it",
    tags=["catalogue"],
    responses=responses(200, Deleted, *ADMIN),
)
def delete_product(id: str) -> Response[Deleted]:
    def decide(context: CommandContext, expected: int | None) -> dict[str, Any]:
        product = _catalog().delete_product(DeleteProduct(id), context, expected)
        return {"id": product.id, "deleted": True, "version": product.version}

    return run_command(router, {"id": id}, decide)


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
