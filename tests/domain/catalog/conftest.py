"""The catalogue on fakes: an in-memory event store, a manual clock, sequential ids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.access import Caller, CommandContext, Role
from domain.catalog.category import Category
from domain.catalog.commands import (
    ActivateProduct,
    ApproveProduct,
    CreateCategory,
    CreateProduct,
)
from domain.catalog.product import Product
from domain.catalog.service import CatalogService
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
def service(repository: EventSourcedRepository) -> CatalogService:
    return CatalogService(repository)


@pytest.fixture
def category(service: CatalogService) -> Category:
    return service.create_category(CreateCategory("Garden"), ADMIN)


@pytest.fixture
def premium(service: CatalogService) -> Category:
    return service.create_category(CreateCategory("Jewellery", premium=True), ADMIN)


def new_product(
    service: CatalogService, category: Category, price: str = "80.00", name: str = "Spade"
) -> Product:
    return service.create_product(
        CreateProduct(name, "A sturdy spade.", Decimal(price), category.id), ADMIN
    )


def active_product(
    service: CatalogService, category: Category, price: str = "80.00", name: str = "Spade"
) -> Product:
    product = new_product(service, category, price, name)
    if product.state.requires_approval:
        service.approve(ApproveProduct(product.id), ADMIN)
    return service.activate(ActivateProduct(product.id), ADMIN)
