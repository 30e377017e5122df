"""The seed's Category: a name, whether it takes products, whether it is premium."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import service as catalog
from domain.catalog.category import Category, CategoryCreated
from domain.catalog.commands import CreateCategory, CreateProduct
from domain.catalog.service import CATEGORY_NAME_CLAIM
from domain.errors import Conflict, InvalidValue
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.testing.memory import ManualClock
from tests.domain.catalog.conftest import ADMIN


def test_a_new_category_allows_products_and_is_not_premium_by_default(
    repository: EventSourcedRepository, clock: ManualClock
) -> None:
    category = catalog.create_category(repository, CreateCategory("  Garden "), ADMIN)
    assert category.version == 1
    assert category.state.name == "Garden"
    assert category.state.allows_products
    assert not category.state.premium
    assert category.state.created_at == clock.now()


def test_the_creation_event_carries_the_flags(
    repository: EventSourcedRepository,
) -> None:
    category = catalog.create_category(
        repository, CreateCategory("Archive", allows_products=False, premium=True), ADMIN
    )
    (recorded,) = repository.history(Category, category.id)
    event = repository.events.decode(recorded)
    assert event == CategoryCreated(category.id, "Archive", False, True, recorded.occurred_at)
    assert recorded.stream_id == f"category-{category.id}"


@pytest.mark.parametrize("name", ["", "   ", "c" * 101])
def test_a_category_name_has_1_to_100_characters(
    repository: EventSourcedRepository, name: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        catalog.create_category(repository, CreateCategory(name), ADMIN)
    assert refused.value.code == "invalid_name"
    assert refused.value.details[0].field == "name"


def test_a_category_name_of_100_characters_is_fine(repository: EventSourcedRepository) -> None:
    assert catalog.create_category(repository, CreateCategory("c" * 100), ADMIN).exists


def test_a_category_name_is_unique_whatever_its_case(
    repository: EventSourcedRepository,
) -> None:
    first = catalog.create_category(repository, CreateCategory("Garden"), ADMIN)
    with pytest.raises(Conflict) as taken:
        catalog.create_category(repository, CreateCategory(" GARDEN  "), ADMIN)
    assert taken.value.code == "category_name_taken"
    assert repository.store.claim_owner(CATEGORY_NAME_CLAIM, "garden") == first.stream_id


def test_a_category_and_a_product_may_share_a_name(repository: EventSourcedRepository) -> None:
    garden = catalog.create_category(repository, CreateCategory("Garden"), ADMIN)
    product = catalog.create_product(
        repository, CreateProduct("Garden", "", Decimal(5), garden.id), ADMIN
    )
    assert product.state.name == "Garden"


def test_a_category_snapshot_round_trips(repository: EventSourcedRepository) -> None:
    category = catalog.create_category(repository, CreateCategory("Garden", premium=True), ADMIN)
    restored = Category.restore(category.id, category.version, category.snapshot_state())
    assert restored.state == category.state
