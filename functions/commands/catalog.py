"""Catalogue commands: categories, products, their prices and states, reviews."""

from __future__ import annotations

from decimal import Decimal

from domain.catalog import service as catalog
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
from functions.shared.http import Calling, Repository, Routes, command, http_function

router = Routes()
TAGS = ["catalogue"]
ADMIN = (400, 401, 403, 404, 409, 412, 422)


def _product(product: Product) -> ProductAnswer:
    return ProductAnswer(
        id=product.id,
        version=product.version,
        price=str(product.state.price),
        is_active=product.state.is_active,
        requires_approval=product.state.requires_approval,
    )


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
def create_category(body: NewCategory, call: Calling, repository: Repository) -> Versioned:
    command = CreateCategory(body.name, body.allows_products, body.premium)
    category = catalog.create_category(repository, command, call.context)
    return Versioned(id=category.id, version=category.version)


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
def create_product(body: NewProduct, call: Calling, repository: Repository) -> ProductAnswer:
    command = CreateProduct(body.name, body.description, Decimal(body.price), body.category_id)
    return _product(catalog.create_product(repository, command, call.context))


@command(
    router,
    "PUT",
    "/products/<id>/price",
    ProductAnswer,
    *ADMIN,
    summary="Change a product's price (admin)",
    tags=TAGS,
)
def change_price(id: str, body: NewPrice, call: Calling, repository: Repository) -> ProductAnswer:
    return _product(catalog.change_price(repository, ChangePrice(id, Decimal(body.price)), *call))


@command(
    router,
    "POST",
    "/products/<id>/approve",
    ProductAnswer,
    *ADMIN,
    summary="Approve a product's price (admin)",
    tags=TAGS,
)
def approve(id: str, call: Calling, repository: Repository) -> ProductAnswer:
    return _product(catalog.approve(repository, ApproveProduct(id), *call))


@command(
    router,
    "POST",
    "/products/<id>/activate",
    ProductAnswer,
    *ADMIN,
    summary="Activate a product (admin); refused while approval is pending",
    tags=TAGS,
)
def activate(id: str, call: Calling, repository: Repository) -> ProductAnswer:
    return _product(catalog.activate(repository, ActivateProduct(id), *call))


@command(
    router,
    "POST",
    "/products/<id>/deactivate",
    ProductAnswer,
    *ADMIN,
    summary="Deactivate a product (admin), with a reason",
    tags=TAGS,
)
def deactivate(id: str, body: Deactivation, call: Calling, repository: Repository) -> ProductAnswer:
    return _product(catalog.deactivate(repository, DeactivateProduct(id, body.reason), *call))


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
def review(id: str, body: NewReview, call: Calling, repository: Repository) -> Versioned:
    posted = catalog.review(repository, PostReview(id, body.rating, body.comment), *call)
    return Versioned(id=posted.id, version=posted.version)


@command(
    router,
    "DELETE",
    "/products/<id>",
    Deleted,
    *ADMIN,
    summary="Delete a product (admin); refused while any order holds it",
    tags=TAGS,
)
def delete_product(id: str, call: Calling, repository: Repository) -> Deleted:
    product = catalog.delete_product(repository, DeleteProduct(id), *call)
    return Deleted(id=product.id, deleted=True, version=product.version)


app, handler = http_function(router)
