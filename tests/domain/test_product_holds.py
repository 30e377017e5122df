"""Orders hold the catalogue products they have lines of; a held product cannot be deleted,
and a deleted product cannot be taken, however close the two requests (the store decides,
in the write itself)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from domain import holds
from domain.catalog import service as catalog
from domain.catalog.commands import (
    ActivateProduct,
    CreateCategory,
    CreateProduct,
    DeleteProduct,
)
from domain.errors import RuleViolation
from domain.ordering import service as ordering
from domain.ordering.commands import (
    AddItem,
    CancelOrder,
    CreateOrder,
    PlaceOrder,
    RemoveItem,
    RequestedItem,
)
from domain.ordering.order import CancelReason, Order, OrderStatus
from domain.ordering.process import OrderProcess
from event_sourcing.errors import ConcurrencyError, HeldTooLate
from event_sourcing.guards import Hold
from event_sourcing.repository import Append, EventSourcedRepository, EventStore
from event_sourcing.testing.memory import ManualClock, SequentialIds
from infra.catalog_port import EventSourcedCatalog
from tests.domain.ordering.support import ADMIN, CUSTOMER, FlakyStore
from tests.fakes.ordering import SUCCEEDING_METHOD, FakeNotifier, FakePayments
from tests.support.tables import table_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class LateStore(FlakyStore):
    """Lets go of a hold on a key in `late` right after writing it (HeldTooLate), as the
    DynamoDB store does when a retirement marked the key meanwhile; and may fail the
    next append with a concurrent write (a TransactionConflict)."""

    def __init__(self) -> None:
        super().__init__()
        self.late: set[str] = set()
        self.conflicts = 0

    def append(self, *appends: Append, **guards: Any) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise ConcurrencyError(appends[0].stream_id, expected=0, actual=0)
        super().append(*appends, **guards)
        taken = [h for h in guards.get("holds", ()) if h.delta > 0 and h.key in self.late]
        if taken:
            self.late.clear()
            super().append(holds=[Hold(h.namespace, h.key, -1, h.holder) for h in taken])
            raise HeldTooLate(holds.PRODUCT, frozenset(h.key for h in taken))


class Shop:
    def __init__(self, store: EventStore | None = None) -> None:
        self.store = store or LateStore()
        self.repository = EventSourcedRepository(self.store, ManualClock(), SequentialIds())
        self.payments = FakePayments()
        self.catalog = EventSourcedCatalog(self.repository)
        self.process = OrderProcess(self.repository, self.payments, FakeNotifier())
        self.category = catalog.create_category(self.repository, CreateCategory("Garden"), ADMIN).id

    def product(self, name: str) -> str:
        product = catalog.create_product(
            self.repository, CreateProduct(name, "", Decimal("5.00"), self.category), ADMIN
        )
        return catalog.activate(self.repository, ActivateProduct(product.id), ADMIN).id

    def order(self, *product_ids: str) -> str:
        items = tuple(RequestedItem(p, 1) for p in product_ids)
        return ordering.create_order(self.repository, self.catalog, CreateOrder(items), CUSTOMER).id

    @property
    def late(self) -> LateStore:
        assert isinstance(self.store, LateStore)
        return self.store

    def delete(self, product_id: str) -> None:
        catalog.delete_product(self.repository, DeleteProduct(product_id), ADMIN)

    def holders(self, product_id: str) -> int:
        return self.store.holders(holds.PRODUCT, product_id)

    def refused_delete(self, product_id: str) -> None:
        with pytest.raises(RuleViolation) as refused:
            self.delete(product_id)
        assert refused.value.code == "product_in_orders"
        assert not catalog.load_product(self.repository, product_id).pending

    def orders(self) -> list[Order]:
        return [self.repository.load(Order, s.removeprefix("order-")) for s in self.order_ids()]

    def order_ids(self) -> list[str]:
        return [s for s in self.store.stream_ids() if s.startswith("order-")]


@pytest.fixture
def shop() -> Shop:
    return Shop()


def test_a_draft_holds_its_products_until_they_are_removed(shop: Shop) -> None:
    spade, rake = shop.product("Spade"), shop.product("Rake")
    order = shop.order(spade, rake)
    shop.refused_delete(spade)
    shop.refused_delete(rake)
    ordering.remove_item(shop.repository, RemoveItem(order, rake), CUSTOMER)
    shop.delete(rake)
    shop.refused_delete(spade)


def test_adding_more_of_a_held_product_holds_it_once(shop: Shop) -> None:
    spade = shop.product("Spade")
    order = shop.order(spade)
    ordering.add_item(shop.repository, shop.catalog, AddItem(order, spade, 2), CUSTOMER)
    assert shop.holders(spade) == 1
    ordering.remove_item(shop.repository, RemoveItem(order, spade), CUSTOMER)
    assert shop.holders(spade) == 0


def test_every_order_holds_the_product_until_the_last_one_lets_go(shop: Shop) -> None:
    spade = shop.product("Spade")
    first, second = shop.order(spade), shop.order(spade)
    assert shop.holders(spade) == 2
    ordering.cancel(shop.repository, CancelOrder(first), CUSTOMER)
    shop.refused_delete(spade)
    ordering.cancel(shop.repository, CancelOrder(second), ADMIN)
    shop.delete(spade)


def test_an_order_cancelled_by_the_process_lets_go_of_its_products(shop: Shop) -> None:
    spade = shop.product("Spade")  # never stocked: the reservation fails
    order = shop.order(spade)
    ordering.place(
        shop.repository, shop.catalog, shop.payments, PlaceOrder(order, SUCCEEDING_METHOD), CUSTOMER
    )
    while shop.process.handle(order, 0) is not None:
        pass
    assert shop.repository.load(Order, order).state.reason is not None
    assert shop.holders(spade) == 0
    shop.delete(spade)


def test_a_product_held_by_an_order_that_lands_first_is_not_deleted(shop: Shop) -> None:
    spade = shop.product("Spade")
    # The delete has seen no holder and decided; an order gets in before its write.
    shop.late.before_next_append(lambda: shop.order(spade))
    shop.refused_delete(spade)
    assert shop.holders(spade) == 1


def test_a_product_deleted_first_is_not_taken_by_an_order(shop: Shop) -> None:
    spade, rake = shop.product("Spade"), shop.product("Rake")
    order = shop.order(rake)
    # The order has loaded the active product and decided; the delete gets in first.
    shop.late.before_next_append(lambda: shop.delete(spade))
    with pytest.raises(RuleViolation) as refused:
        ordering.add_item(shop.repository, shop.catalog, AddItem(order, spade, 1), CUSTOMER)
    assert refused.value.code == "product_unavailable"
    assert [line.product_id for line in shop.repository.load(Order, order).state.items] == [rake]
    assert shop.holders(spade) == 0


def test_creating_an_order_decides_again_after_a_concurrent_write(shop: Shop) -> None:
    spade = shop.product("Spade")
    shop.late.conflicts = 2  # e.g. DynamoDB's TransactionConflict, twice
    order = shop.order(spade)
    assert shop.repository.load(Order, order).state.items[0].product_id == spade
    assert shop.holders(spade) == 1


def test_many_orders_of_one_product_each_hold_it_in_their_own_item(shop: Shop) -> None:
    spade = shop.product("Spade")
    orders = [shop.order(spade) for _ in range(5)]
    assert shop.holders(spade) == 5
    for order in orders:
        shop.refused_delete(spade)
        ordering.cancel(shop.repository, CancelOrder(order), CUSTOMER)
    shop.delete(spade)


def test_a_new_order_whose_product_is_deleted_during_its_write_is_cancelled_and_refused(
    shop: Shop,
) -> None:
    spade, rake = shop.product("Spade"), shop.product("Rake")
    shop.late.late.add(spade)
    with pytest.raises(RuleViolation) as refused:
        ordering.create_order(
            shop.repository,
            shop.catalog,
            CreateOrder((RequestedItem(rake, 1), RequestedItem(spade, 1))),
            CUSTOMER,
        )
    assert refused.value.code == "product_unavailable"
    assert refused.value.details[0].field == "items[1].product_id"
    (order,) = shop.orders()
    assert (order.state.status, order.state.reason) == (
        OrderStatus.CANCELLED,
        CancelReason.CANCELLED_BY_CUSTOMER,
    )
    assert (shop.holders(spade), shop.holders(rake)) == (0, 0)


def test_an_added_line_whose_product_is_deleted_during_its_write_goes_again(shop: Shop) -> None:
    spade, rake = shop.product("Spade"), shop.product("Rake")
    order = shop.order(rake)
    shop.late.late.add(spade)
    with pytest.raises(RuleViolation) as refused:
        ordering.add_item(shop.repository, shop.catalog, AddItem(order, spade, 1), CUSTOMER)
    assert refused.value.code == "product_unavailable"
    assert [line.product_id for line in shop.repository.load(Order, order).state.items] == [rake]
    assert (shop.holders(spade), shop.holders(rake)) == (0, 1)


# -- tables written by the previous release (issue #20, item 8) ---------------------------


@pytest.fixture
def dynamodb_shop(dynamodb: DynamoDBClient) -> Shop:
    from event_sourcing.dynamodb.event_store import DynamoDBEventStore

    return Shop(DynamoDBEventStore(dynamodb, table_name("EventsTable")))


def as_the_previous_release_held_it(dynamodb: DynamoDBClient, order_id: str, product: str) -> None:
    """The order's hold as the previous release wrote it: one count in hold#product#<id>,
    no item of the order's own."""
    from event_sourcing.dynamodb.event_store import hold_key, hold_line_key

    table = table_name("EventsTable")
    dynamodb.delete_item(
        TableName=table, Key=hold_line_key(holds.PRODUCT, product, f"order-{order_id}")
    )
    dynamodb.update_item(
        TableName=table,
        Key=hold_key(holds.PRODUCT, product),
        UpdateExpression="ADD holders :one SET kind = :hold",
        ExpressionAttributeValues={":one": {"N": "1"}, ":hold": {"S": "hold"}},
    )


def test_orders_of_the_previous_release_still_hold_their_products_until_they_let_go(
    dynamodb_shop: Shop, dynamodb: DynamoDBClient
) -> None:
    shop = dynamodb_shop
    spade, rake = shop.product("Spade"), shop.product("Rake")
    old, older = shop.order(spade, rake), shop.order(spade)
    for order, product in ((old, spade), (old, rake), (older, spade)):
        as_the_previous_release_held_it(dynamodb, order, product)
    new = shop.order(spade)
    assert (shop.holders(spade), shop.holders(rake)) == (3, 1)

    shop.refused_delete(spade)
    ordering.remove_item(shop.repository, RemoveItem(old, rake), CUSTOMER)
    shop.delete(rake)
    for order in (old, new):
        ordering.cancel(shop.repository, CancelOrder(order), CUSTOMER)
        shop.refused_delete(spade)
    ordering.cancel(shop.repository, CancelOrder(older), ADMIN)
    assert shop.holders(spade) == 0
    shop.delete(spade)
