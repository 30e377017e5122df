"""Ordering use cases: load -> decide -> append, one plain function each, over the kit's
repository and the ports a use case needs (the catalogue, the payment gateway).

An order is seen by its customer and by admins only: to anyone else it does not exist
(404, never 403). Only its customer changes its items or places it; its customer or an
admin cancels it. The stock an order holds moves in the same write as the order's own
events, so an order and the inventories never disagree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.access import Caller, CommandContext, require_admin, require_caller
from domain.errors import Detail, DomainError, Forbidden, InvalidValue, NotFound
from domain.ordering.commands import (
    AddItem,
    CancelOrder,
    CreateOrder,
    PlaceOrder,
    RemoveItem,
    SetStock,
)
from domain.ordering.inventory import Inventory, Stock, bucket_ids, count_stock
from domain.ordering.order import CancelReason, Order, unavailable
from domain.ordering.ports import PaymentGateway, ProductCatalog
from domain.ordering.values import (
    MAX_LINES,
    check_id,
    check_on_hand,
    check_payment_method,
    check_quantity,
)
from event_sourcing.errors import HeldTooLate
from event_sourcing.repository import Decision, EventSourcedRepository


def create_order(
    repository: EventSourcedRepository,
    catalog: ProductCatalog,
    command: CreateOrder,
    context: CommandContext,
) -> Order:
    """A draft order of the caller's, with the given lines (one write, all or none).

    Names and prices come from the catalogue; the same product twice adds up."""
    caller = context.require_caller()
    if len(command.items) > MAX_LINES:
        raise InvalidValue(
            f"An order may hold at most {MAX_LINES} items.",
            code="too_many_items",
            details=[Detail("items", f"at most {MAX_LINES} entries")],
        )
    for index, item in enumerate(command.items):
        check_id(item.product_id, field=f"items[{index}].product_id")
        check_quantity(item.quantity, field=f"items[{index}].quantity")
    order_id = repository.ids.new_id()

    def attempt() -> Order:
        order = Order.create(order_id, caller.user_id, _now(repository))
        for index, item in enumerate(command.items):
            try:
                order.add_item(item.product_id, item.quantity, catalog.product(item.product_id))
            except DomainError as refused:
                raise _at_item(index, refused) from refused
        repository.save(order, context=context)
        return order

    # Run like any command: a write caught in a concurrent transaction (DynamoDB's
    # TransactionConflict) decides again instead of answering 409. Holding a product
    # contends with no other order (a hold is an item of the order's own).
    try:
        return repository.run(attempt)
    except HeldTooLate as late:
        # A product was deleted between the catalogue's answer and the write: the
        # order landed without holding it. The customer's command is refused (all or
        # none), so the order it wrote is withdrawn in the customer's name, holding
        # nothing; it never answered 201.
        order = repository.load(Order, order_id)
        order.cancel(CancelReason.CANCELLED_BY_CUSTOMER, caller.user_id, _now(repository), {})
        repository.save(order, context=context)
        index, product_id = next(
            (i, item.product_id)
            for i, item in enumerate(command.items)
            if item.product_id in late.keys
        )
        raise _at_item(index, unavailable(product_id)) from late


def add_item(
    repository: EventSourcedRepository,
    catalog: ProductCatalog,
    command: AddItem,
    context: CommandContext,
    expected_version: int | None = None,
) -> Order:
    caller = context.require_caller()
    check_id(command.product_id, field="product_id")
    check_quantity(command.quantity)

    def decide(order: Order) -> None:
        product = catalog.product(command.product_id)
        order.add_item(command.product_id, command.quantity, product)

    try:
        return _transact(repository, command.order_id, caller, decide, context, expected_version)
    except HeldTooLate as late:
        # The product was deleted between the catalogue's answer and the write: its
        # new line holds nothing; it goes again, and the product is refused.
        repository.transact(
            Order,
            command.order_id,
            lambda order: order.remove_item(command.product_id),
            context=context,
        )
        raise unavailable(command.product_id) from late


def remove_item(
    repository: EventSourcedRepository,
    command: RemoveItem,
    context: CommandContext,
    expected_version: int | None = None,
) -> Order:
    caller = context.require_caller()

    return _transact(
        repository,
        command.order_id,
        caller,
        lambda order: order.remove_item(command.product_id),
        context,
        expected_version,
    )


def place(
    repository: EventSourcedRepository,
    catalog: ProductCatalog,
    payments: PaymentGateway,
    command: PlaceOrder,
    context: CommandContext,
    expected_version: int | None = None,
) -> Order:
    """Place the draft; the order process then reserves, charges, confirms, notifies."""
    caller = context.require_caller()
    payment_method = check_payment_method(command.payment_method)
    if not payments.is_supported(payment_method):
        raise InvalidValue(
            "This payment method is not supported.",
            code="unsupported_payment_method",
            details=[Detail("payment_method", "not a supported payment method")],
        )

    def decide(order: Order) -> None:
        products = catalog.products(line.product_id for line in order.state.items)
        order.place(payment_method, products, _now(repository))

    return _transact(repository, command.order_id, caller, decide, context, expected_version)


def cancel(
    repository: EventSourcedRepository,
    command: CancelOrder,
    context: CommandContext,
    expected_version: int | None = None,
) -> Order:
    """Cancel a draft, placed or confirmed order; what it holds goes back in the same
    write (a reservation is released, sold units are returned). A charge is refunded
    by the order process."""
    caller = context.require_caller()

    def decide(order: Order) -> Decision[None]:
        reason = (
            CancelReason.CANCELLED_BY_CUSTOMER
            if order.owned_by(caller)
            else CancelReason.CANCELLED_BY_ADMIN
        )
        inventories = repository.load_many(Inventory, order.stock_ids())
        order.cancel(reason, caller.user_id, _now(repository), inventories)
        return Decision(also=list(inventories.values()))

    return _transact(
        repository, command.order_id, caller, decide, context, expected_version, own=False
    )


def set_stock(
    repository: EventSourcedRepository,
    catalog: ProductCatalog,
    command: SetStock,
    context: CommandContext,
    expected_version: int | None = None,
) -> Stock:
    """Count a catalogue product's stock anew, over all its buckets in one write.
    `expected_version` is the inventory's (its first bucket's; 0 before its first
    count)."""
    admin = context.require_admin()
    on_hand = check_on_hand(command.on_hand)
    if catalog.product(command.product_id) is None:
        raise NotFound(f"No product has the id {command.product_id!r}.", code="product_not_found")

    def decide(first: Inventory) -> Decision[Stock]:
        others = repository.load_many(Inventory, bucket_ids(first.id)[1:])
        count_stock(first, others, on_hand, admin.user_id)
        changed = [b for b in others.values() if b.pending]
        return Decision(Stock.of(first.id, [first, *others.values()]), also=changed)

    stock = repository.transact(
        Inventory,
        command.product_id,
        decide,
        context=context,
        expected_version=expected_version,
    ).result
    assert stock is not None  # decide always answers one
    return stock


def order(repository: EventSourcedRepository, order_id: str, caller: Caller | None) -> Order:
    """The order as of its newest event, if the caller may see it."""
    return _visible_order(repository, order_id, require_caller(caller))


def inventory(repository: EventSourcedRepository, product_id: str, caller: Caller | None) -> Stock:
    """A product's stock, its buckets summed (all zero before its first count), for
    admins."""
    require_admin(caller)
    return Stock.of(product_id, repository.load_many(Inventory, bucket_ids(product_id)).values())


def _visible_order(
    repository: EventSourcedRepository, order_id: str, caller: Caller, *, own: bool = False
) -> Order:
    """The order, if the caller may see it (and, with `own`, change it)."""
    order = repository.load(Order, order_id)
    if not order.visible_to(caller):
        raise NotFound(f"No order has the id {order_id!r}.", code="order_not_found")
    if own and not order.owned_by(caller):
        raise Forbidden("Only the order's customer may change it.", code="owner_only")
    return order


def _transact(
    repository: EventSourcedRepository,
    order_id: str,
    caller: Caller,
    decide: Callable[[Order], Decision[None] | None],
    context: CommandContext,
    expected_version: int | None,
    *,
    own: bool = True,
) -> Order:
    """A command on an order the caller may see (and, with `own`, change)."""
    return repository.transact(
        Order,
        order_id,
        decide,
        context=context,
        expected_version=expected_version,
        load=lambda oid: _visible_order(repository, oid, caller, own=own),
    ).aggregate


def _now(repository: EventSourcedRepository) -> datetime:
    return repository.clock.now()


def _at_item(index: int, error: DomainError) -> DomainError:
    """The same refusal, its details pointing at the item of the request it is about."""
    details = [Detail(f"items[{index}].{d.field}", d.issue) for d in error.details]
    return type(error)(error.message, code=error.code, details=details)
