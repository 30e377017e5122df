"""Catalogue use cases: load -> decide -> append, one plain function each, over the
kit's repository."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from domain import holds
from domain.access import CommandContext
from domain.catalog.category import Category
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
from domain.catalog.product import Product, held_by_orders
from domain.catalog.review import Review
from domain.catalog.text import name_key
from domain.errors import Conflict, NotFound
from event_sourcing.errors import KeyHeld, UniquenessViolation
from event_sourcing.guards import Claim, Retire
from event_sourcing.repository import Decision, EventSourcedRepository

CATEGORY_NAME_CLAIM = "category-name"
PRODUCT_NAME_CLAIM = "product-name"


def create_category(
    repository: EventSourcedRepository, command: CreateCategory, context: CommandContext
) -> Category:
    """A new category; its name is claimed in the same write, so it is unique."""
    context.require_admin()
    category = Category.create(
        repository.ids.new_id(),
        command.name,
        command.allows_products,
        command.premium,
        _now(repository),
    )
    claim = Claim(CATEGORY_NAME_CLAIM, name_key(category.state.name), category.stream_id)
    try:
        repository.save(category, context=context, claims=[claim])
    except UniquenessViolation as taken:
        raise Conflict(
            "A category with this name already exists.", code="category_name_taken"
        ) from taken
    return category


def create_product(
    repository: EventSourcedRepository, command: CreateProduct, context: CommandContext
) -> Product:
    """A new, inactive product in an open category; its name is claimed, so unique."""
    admin = context.require_admin()
    category = repository.load(Category, command.category_id)
    product = Product.create(
        repository.ids.new_id(),
        command.name,
        command.description,
        command.price,
        category,
        admin.user_id,
        repository.clock.now(),
    )
    claim = Claim(PRODUCT_NAME_CLAIM, name_key(product.state.name), product.stream_id)
    try:
        repository.save(product, context=context, claims=[claim])
    except UniquenessViolation as taken:
        raise Conflict(
            "A product with this name already exists.", code="product_name_taken"
        ) from taken
    return product


def change_price(
    repository: EventSourcedRepository,
    command: ChangePrice,
    context: CommandContext,
    expected_version: int | None = None,
) -> Product:
    admin = context.require_admin()

    def decide(product: Product) -> None:
        premium = product.state.premium
        if premium is None:  # created before products kept the flag: ask the category
            premium = repository.load(Category, product.state.category_id).state.premium
        product.change_price(command.price, premium, admin.user_id, _now(repository))

    return _transact(repository, command.product_id, decide, context, expected_version)


def approve(
    repository: EventSourcedRepository,
    command: ApproveProduct,
    context: CommandContext,
    expected_version: int | None = None,
) -> Product:
    admin = context.require_admin()
    return _transact(
        repository,
        command.product_id,
        lambda product: product.approve(admin.user_id, _now(repository)),
        context,
        expected_version,
    )


def activate(
    repository: EventSourcedRepository,
    command: ActivateProduct,
    context: CommandContext,
    expected_version: int | None = None,
) -> Product:
    admin = context.require_admin()
    return _transact(
        repository,
        command.product_id,
        lambda product: product.activate(admin.user_id, _now(repository)),
        context,
        expected_version,
    )


def deactivate(
    repository: EventSourcedRepository,
    command: DeactivateProduct,
    context: CommandContext,
    expected_version: int | None = None,
) -> Product:
    admin = context.require_admin()
    return _transact(
        repository,
        command.product_id,
        lambda product: product.deactivate(command.reason, admin.user_id, _now(repository)),
        context,
        expected_version,
    )


def delete_product(
    repository: EventSourcedRepository,
    command: DeleteProduct,
    context: CommandContext,
    expected_version: int | None = None,
) -> Product:
    admin = context.require_admin()

    def decide(product: Product) -> Decision[None]:
        product.delete(admin.user_id, _now(repository))
        # The product's key is retired in the same write as its deletion: refused while
        # any order holds it, and no order can take it afterwards.
        return Decision(retire=[Retire(holds.PRODUCT, product.id)])

    try:
        return _transact(repository, command.product_id, decide, context, expected_version)
    except KeyHeld as held:
        raise held_by_orders() from held


def review(
    repository: EventSourcedRepository,
    command: PostReview,
    context: CommandContext,
    expected_version: int | None = None,
) -> Review:
    """Post the caller's review of an active product, replacing an earlier one.

    `expected_version` is the version of the caller's review of that product (0 when
    there is none yet), not of the product."""
    caller = context.require_caller()

    def of_an_active_product(review_id: str) -> Review:
        if not load_product(repository, command.product_id).state.is_active:
            raise _no_product(command.product_id)
        return repository.load(Review, review_id)

    return repository.transact(
        Review,
        Review.of(command.product_id, caller.user_id).id,
        lambda review: review.post(
            command.product_id, caller.user_id, command.rating, command.comment, _now(repository)
        ),
        context=context,
        expected_version=expected_version,
        load=of_an_active_product,
    ).aggregate


def load_product(repository: EventSourcedRepository, product_id: str) -> Product:
    """The product as of its newest event, for queries (a discounted price); not
    found if it does not exist or is deleted. Whether an inactive product may be
    shown is the caller's decision."""
    product = repository.load(Product, product_id)
    if not product.is_live:
        raise _no_product(product_id)
    return product


def _transact(
    repository: EventSourcedRepository,
    product_id: str,
    decide: Callable[[Product], Decision[None] | None],
    context: CommandContext,
    expected_version: int | None,
) -> Product:
    """A command on one live product (`transact`)."""
    return repository.transact(
        Product,
        product_id,
        decide,
        context=context,
        expected_version=expected_version,
        load=partial(load_product, repository),
    ).aggregate


def _now(repository: EventSourcedRepository) -> datetime:
    return repository.clock.now()


def _no_product(product_id: str) -> NotFound:
    return NotFound(f"No product has the id {product_id!r}.", code="product_not_found")
