"""The catalogue on fakes: an in-memory event store, a manual clock, sequential ids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.access import Caller, CommandContext, Role
from domain.catalog import service as catalog
from domain.catalog.category import Category
from domain.catalog.commands import (
    ActivateProduct,
    ApproveProduct,
    CreateCategory,
    CreateProduct,
)
from domain.catalog.product import Product
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.testing.memory import InMemoryEventStore, ManualClock, SequentialIds

ADMIN = CommandContext("corr", "cause", Caller("admin1", Role.ADMIN))
CUSTOMER = CommandContext("corr", "cause", Caller("cust1", Role.CUSTOMER))
OTHER_CUSTOMER = CommandContext("corr", "cause", Caller("cust2", Role.CUSTOMER))
ANON = CommandContext("corr", "cause")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def repository(clock: ManualClock) -> EventSourcedRepository:
    return EventSourcedRepository(InMemoryEventStore(), clock, SequentialIds())


@pytest.fixture
def category(repository: EventSourcedRepository) -> Category:
    return catalog.create_category(repository, CreateCategory("Garden"), ADMIN)


@pytest.fixture
def premium(repository: EventSourcedRepository) -> Category:
    return catalog.create_category(repository, CreateCategory("Jewellery", premium=True), ADMIN)


def new_product(
    repository: EventSourcedRepository,
    category: Category,
    price: str = "80.00",
    name: str = "Spade",
) -> Product:
    return catalog.create_product(
        repository, CreateProduct(name, "A sturdy spade.", Decimal(price), category.id), ADMIN
    )


def active_product(
    repository: EventSourcedRepository,
    category: Category,
    price: str = "80.00",
    name: str = "Spade",
) -> Product:
    product = new_product(repository, category, price, name)
    if product.state.requires_approval:
        catalog.approve(repository, ApproveProduct(product.id), ADMIN)
    return catalog.activate(repository, ActivateProduct(product.id), ADMIN)
