"""Catalogue commands: categories, products, their prices and states, reviews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
from functions.shared.auth import authenticate_first
from functions.shared.bodies import readable_bodies
from functions.shared.commands import Call, command
from functions.shared.http import http_app
from functions.shared.observability import CORRELATION_ID, entry_point

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
TAGS = ["catalogue"]
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


@command(
    router,
    "POST",
    "/categories",
    Versioned,
    400,
    401,
    403,
    409,
    status=201,
    summary="Create a category (admin)",
    tags=TAGS,
)
def create_category(body: NewCategory, call: Call) -> dict[str, Any]:
    command = CreateCategory(body.name, body.allows_products, body.premium)
    category = _catalog().create_category(command, call.context)
    return {"id": category.id, "name": category.state.name, "version": category.version}


@command(
    router,
    "POST",
    "/products",
    ProductAnswer,
    400,
    401,
    403,
    409,
    422,
    status=201,
    summary="Create a product (admin); it starts inactive",
    tags=TAGS,
)
def create_product(body: NewProduct, call: Call) -> dict[str, Any]:
    command = CreateProduct(body.name, body.description, Decimal(body.price), body.category_id)
    return _product(_catalog().create_product(command, call.context))


@command(
    router,
    "PUT",
    "/products/<id>/price",
    ProductAnswer,
    *ADMIN,
    summary="Change a product's price (admin)",
    tags=TAGS,
)
def change_price(id: str, body: NewPrice, call: Call) -> dict[str, Any]:
    return _product(_catalog().change_price(ChangePrice(id, Decimal(body.price)), *call))


@command(
    router,
    "POST",
    "/products/<id>/approve",
    ProductAnswer,
    *ADMIN,
    summary="Approve a product's price (admin)",
    tags=TAGS,
)
def approve(id: str, call: Call) -> dict[str, Any]:
    return _product(_catalog().approve(ApproveProduct(id), *call))


@command(
    router,
    "POST",
    "/products/<id>/activate",
    ProductAnswer,
    *ADMIN,
    summary="Activate a product (admin); refused while approval is pending",
    tags=TAGS,
)
def activate(id: str, call: Call) -> dict[str, Any]:
    return _product(_catalog().activate(ActivateProduct(id), *call))


@command(
    router,
    "POST",
    "/products/<id>/deactivate",
    ProductAnswer,
    *ADMIN,
    summary="Deactivate a product (admin), with a reason",
    tags=TAGS,
)
def deactivate(id: str, body: Deactivation, call: Call) -> dict[str, Any]:
    return _product(_catalog().deactivate(DeactivateProduct(id, body.reason), *call))


@command(
    router,
    "POST",
    "/products/<id>/reviews",
    Versioned,
    400,
    401,
    404,
    412,
    status=201,
    summary="Review a product (1 to 5); a second review replaces your first",
    tags=TAGS,
)
def review(id: str, body: NewReview, call: Call) -> dict[str, Any]:
    posted = _catalog().review(PostReview(id, body.rating, body.comment), *call)
    return {
        "id": posted.id,
        "product_id": id,
        "rating": posted.state.rating,
        "version": posted.version,
    }


@command(
    router,
    "DELETE",
    "/products/<id>",
    Deleted,
    *ADMIN,
    summary="Delete a product (admin); refused while any order holds it",
    tags=TAGS,
)
def delete_product(id: str, call: Call) -> dict[str, Any]:
    product = _catalog().delete_product(DeleteProduct(id), *call)
    return {"id": product.id, "deleted": True, "version": product.version}


app = http_app(router)
handler = entry_point(
    authenticate_first(readable_bodies(app.resolve)), correlation_id_path=CORRELATION_ID
)
