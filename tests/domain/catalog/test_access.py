"""Every catalogue command but a review is an admin's; a review needs a signed-in caller."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.access import CommandContext
from domain.catalog import service as catalog
from domain.catalog.category import Category
from domain.catalog.commands import (
    ActivateProduct,
    ApproveProduct,
    ChangePrice,
    CreateCategory,
    CreateProduct,
    DeactivateProduct,
)
from domain.catalog.product import Product
from domain.errors import Forbidden, Unauthenticated
from event_sourcing.repository import EventSourcedRepository
from tests.domain.catalog.conftest import ANON, CUSTOMER, new_product

AdminCommand = Callable[[EventSourcedRepository, str, str, CommandContext], object]

ADMIN_COMMANDS: dict[str, AdminCommand] = {
    "create_category": lambda s, _c, _p, ctx: catalog.create_category(
        s, CreateCategory("Tools"), ctx
    ),
    "create_product": lambda s, c, _p, ctx: catalog.create_product(
        s, CreateProduct("Hoe", "", Decimal(9), c), ctx
    ),
    "change_price": lambda s, _c, p, ctx: catalog.change_price(s, ChangePrice(p, Decimal(90)), ctx),
    "approve": lambda s, _c, p, ctx: catalog.approve(s, ApproveProduct(p), ctx),
    "activate": lambda s, _c, p, ctx: catalog.activate(s, ActivateProduct(p), ctx),
    "deactivate": lambda s, _c, p, ctx: catalog.deactivate(s, DeactivateProduct(p, "why"), ctx),
}


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_a_customer_may_not_run_an_admin_command(
    repository: EventSourcedRepository, category: Category, name: str
) -> None:
    product = new_product(repository, category, price="2000.00")
    with pytest.raises(Forbidden) as refused:
        ADMIN_COMMANDS[name](repository, category.id, product.id, CUSTOMER)
    assert refused.value.code == "admin_only"
    assert len(repository.history(Product, product.id)) == 1


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_an_anonymous_caller_must_sign_in_first(
    repository: EventSourcedRepository, category: Category, name: str
) -> None:
    product = new_product(repository, category, price="2000.00")
    with pytest.raises(Unauthenticated):
        ADMIN_COMMANDS[name](repository, category.id, product.id, ANON)


def test_the_admin_check_comes_before_any_lookup(repository: EventSourcedRepository) -> None:
    with pytest.raises(Forbidden):
        catalog.approve(repository, ApproveProduct("ghost"), CUSTOMER)
