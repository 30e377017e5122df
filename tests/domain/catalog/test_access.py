"""Every catalogue command but a review is an admin's; a review needs a signed-in caller."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.access import CommandContext
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
from domain.catalog.service import CatalogService
from domain.errors import Forbidden, Unauthenticated
from event_sourcing.repository import EventSourcedRepository
from tests.domain.catalog.conftest import ANON, CUSTOMER, new_product

AdminCommand = Callable[[CatalogService, str, str, CommandContext], object]

ADMIN_COMMANDS: dict[str, AdminCommand] = {
    "create_category": lambda s, _c, _p, ctx: s.create_category(CreateCategory("Tools"), ctx),
    "create_product": lambda s, c, _p, ctx: s.create_product(
        CreateProduct("Hoe", "", Decimal(9), c), ctx
    ),
    "change_price": lambda s, _c, p, ctx: s.change_price(ChangePrice(p, Decimal(90)), ctx),
    "approve": lambda s, _c, p, ctx: s.approve(ApproveProduct(p), ctx),
    "activate": lambda s, _c, p, ctx: s.activate(ActivateProduct(p), ctx),
    "deactivate": lambda s, _c, p, ctx: s.deactivate(DeactivateProduct(p, "why"), ctx),
}


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_a_customer_may_not_run_an_admin_command(
    service: CatalogService, category: Category, repository: EventSourcedRepository, name: str
) -> None:
    product = new_product(service, category, price="2000.00")
    with pytest.raises(Forbidden) as refused:
        ADMIN_COMMANDS[name](service, category.id, product.id, CUSTOMER)
    assert refused.value.code == "admin_only"
    assert len(repository.history(Product, product.id)) == 1


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_an_anonymous_caller_must_sign_in_first(
    service: CatalogService, category: Category, name: str
) -> None:
    product = new_product(service, category, price="2000.00")
    with pytest.raises(Unauthenticated):
        ADMIN_COMMANDS[name](service, category.id, product.id, ANON)


def test_the_admin_check_comes_before_any_lookup(service: CatalogService) -> None:
    with pytest.raises(Forbidden):
        service.approve(ApproveProduct("ghost"), CUSTOMER)
