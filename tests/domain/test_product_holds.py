"""Orders hold the catalogue products they have lines of; a held product cannot be deleted,
and a deleted product cannot be taken, however close the two requests (the store decides,
in the write itself)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain import holds
from domain.catalog.commands import (
    ActivateProduct,
    CreateCategory,
    CreateProduct,
    DeleteProduct,
)
from domain.catalog.service import CatalogService
from domain.errors import RuleViolation
from domain.ordering.commands import (
    AddItem,
    CancelOrder,
    CreateOrder,
    PlaceOrder,
    RemoveItem,
    RequestedItem,
)
from domain.ordering.order import Order
from domain.ordering.process import OrderProcess
from domain.ordering.service import OrderingService
from event_sourcing.repository import EventSourcedRepository
from event_sourcing.testing.memory import ManualClock, SequentialIds
from infra.catalog_port import EventSourcedCatalog
from tests.domain.ordering.support import ADMIN, CUSTOMER, FlakyStore
from tests.fakes.ordering import SUCCEEDING_METHOD, FakeNotifier, FakePayments


class Shop:
    def __init__(self) -> None:
        self.store = FlakyStore()
        self.repository = EventSourcedRepository(self.store, ManualClock(), SequentialIds())
        self.catalog = CatalogService(self.repository)
        self.payments = FakePayments()
        self.ordering = OrderingService(
            self.repository, EventSourcedCatalog(self.repository), self.payments
        )
        self.process = OrderProcess(self.repository, self.payments, FakeNotifier())
        self.category = self.catalog.create_category(CreateCategory("Garden"), ADMIN).id

    def product(self, name: str) -> str:
        product = self.catalog.create_product(
            CreateProduct(name, "", Decimal("5.00"), self.category), ADMIN
        )
        return self.catalog.activate(ActivateProduct(product.id), ADMIN).id

    def order(self, *product_ids: str) -> str:
        items = tuple(RequestedItem(p, 1) for p in product_ids)
        return self.ordering.create_order(CreateOrder(items), CUSTOMER).id

    def delete(self, product_id: str) -> None:
        self.catalog.delete_product(DeleteProduct(product_id), ADMIN)

    def holders(self, product_id: str) -> int:
        return self.store.holders(holds.PRODUCT, product_id)

    def refused_delete(self, product_id: str) -> None:
        with pytest.raises(RuleViolation) as refused:
            self.delete(product_id)
        assert refused.value.code == "product_in_orders"
        assert not self.catalog.load_product(product_id).pending


@pytest.fixture
def shop() -> Shop:
    return Shop()


def test_a_draft_holds_its_products_until_they_are_removed(shop: Shop) -> None:
    spade, rake = shop.product("Spade"), shop.product("Rake")
    order = shop.order(spade, rake)
    shop.refused_delete(spade)
    shop.refused_delete(rake)
    shop.ordering.remove_item(RemoveItem(order, rake), CUSTOMER)
    shop.delete(rake)
    shop.refused_delete(spade)


def test_adding_more_of_a_held_product_holds_it_once(shop: Shop) -> None:
    spade = shop.product("Spade")
    order = shop.order(spade)
    shop.ordering.add_item(AddItem(order, spade, 2), CUSTOMER)
    assert shop.holders(spade) == 1
    shop.ordering.remove_item(RemoveItem(order, spade), CUSTOMER)
    assert shop.holders(spade) == 0


def test_every_order_holds_the_product_until_the_last_one_lets_go(shop: Shop) -> None:
    spade = shop.product("Spade")
    first, second = shop.order(spade), shop.order(spade)
    assert shop.holders(spade) == 2
    shop.ordering.cancel(CancelOrder(first), CUSTOMER)
    shop.refused_delete(spade)
    shop.ordering.cancel(CancelOrder(second), ADMIN)
    shop.delete(spade)


def test_an_order_cancelled_by_the_process_lets_go_of_its_products(shop: Shop) -> None:
    spade = shop.product("Spade")  # never stocked: the reservation fails
    order = shop.order(spade)
    shop.ordering.place(PlaceOrder(order, SUCCEEDING_METHOD), CUSTOMER)
    while shop.process.handle(order, 0) is not None:
        pass
    assert shop.repository.load(Order, order).state.reason is not None
    assert shop.holders(spade) == 0
    shop.delete(spade)


def test_a_product_held_by_an_order_that_lands_first_is_not_deleted(shop: Shop) -> None:
    spade = shop.product("Spade")
    # The delete has seen no holder and decided; an order gets in before its write.
    shop.store.before_next_append(lambda: shop.order(spade))
    shop.refused_delete(spade)
    assert shop.holders(spade) == 1


def test_a_product_deleted_first_is_not_taken_by_an_order(shop: Shop) -> None:
    spade, rake = shop.product("Spade"), shop.product("Rake")
    order = shop.order(rake)
    # The order has loaded the active product and decided; the delete gets in first.
    shop.store.before_next_append(lambda: shop.delete(spade))
    with pytest.raises(RuleViolation) as refused:
        shop.ordering.add_item(AddItem(order, spade, 1), CUSTOMER)
    assert refused.value.code == "product_unavailable"
    assert [line.product_id for line in shop.repository.load(Order, order).state.items] == [rake]
    assert shop.holders(spade) == 0
