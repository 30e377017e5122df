"""The seed's Product rules, through the catalogue's use cases on fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

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
from domain.catalog.product import (
    Product,
    ProductActivated,
    ProductApproved,
    ProductCreated,
    ProductDeactivated,
    ProductPriceChanged,
)
from domain.errors import Conflict, InvalidValue, NotFound, RuleViolation
from event_sourcing.errors import VersionMismatch
from event_sourcing.repository import Append, EventSourcedRepository
from event_sourcing.testing.builders import tails_read
from event_sourcing.testing.memory import InMemoryEventStore, ManualClock
from tests.domain.catalog.conftest import ADMIN, active_product, new_product


def types_of(repository: EventSourcedRepository, product: Product) -> list[str]:
    return [e.type for e in repository.history(Product, product.id)]


# creation


def test_a_new_product_is_inactive_and_priced_by_the_rules(
    repository: EventSourcedRepository, category: Category, clock: ManualClock
) -> None:
    product = new_product(repository, category, price="120.00")
    assert product.version == 1
    assert product.state.base_price == Decimal("120.00")
    assert product.state.price == Decimal("119.99")
    assert not product.state.is_active
    assert not product.state.requires_approval
    assert product.state.category_id == category.id
    assert product.state.created_at == clock.now()
    assert product.state.price_updated_at == clock.now()


def test_the_creation_event_carries_the_base_and_the_effective_price(
    repository: EventSourcedRepository, premium: Category
) -> None:
    product = new_product(repository, premium, price="100.00")
    (recorded,) = repository.history(Product, product.id)
    event = repository.events.decode(recorded)
    assert isinstance(event, ProductCreated)
    assert (event.base_price, event.price) == (Decimal("100.00"), Decimal("119.99"))
    assert event.created_by == "admin1"
    assert recorded.data["price"] == "119.99"


def test_a_base_price_is_kept_with_two_places(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="19.9")
    assert str(product.state.base_price) == "19.90"
    assert str(product.state.price) == "19.90"


def test_a_product_over_1000_requires_approval(
    repository: EventSourcedRepository, category: Category
) -> None:
    assert new_product(repository, category, price="1001.00").state.requires_approval
    assert not new_product(
        repository, category, "1000.50", "Rake"
    ).state.requires_approval  # 999.99


def test_the_price_must_be_positive(repository: EventSourcedRepository, category: Category) -> None:
    with pytest.raises(InvalidValue) as refused:
        new_product(repository, category, price="0")
    assert refused.value.code == "price_not_positive"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_product_name_has_1_to_200_characters(
    repository: EventSourcedRepository, category: Category, name: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        new_product(repository, category, name=name)
    assert refused.value.code == "invalid_name"
    assert refused.value.details[0].field == "name"


def test_a_product_name_is_trimmed(repository: EventSourcedRepository, category: Category) -> None:
    assert new_product(repository, category, name="  Spade ").state.name == "Spade"
    assert new_product(repository, category, name="x" * 200).state.name == "x" * 200


def test_a_description_has_at_most_5000_characters(
    repository: EventSourcedRepository, category: Category
) -> None:
    with pytest.raises(InvalidValue) as refused:
        catalog.create_product(
            repository, CreateProduct("Spade", "d" * 5001, Decimal(1), category.id), ADMIN
        )
    assert refused.value.details[0].field == "description"
    product = catalog.create_product(
        repository, CreateProduct("Rake", "", Decimal(1), category.id), ADMIN
    )
    assert product.state.description == ""


def test_a_product_name_is_unique_whatever_its_case(
    repository: EventSourcedRepository, category: Category
) -> None:
    new_product(repository, category, name="Spade")
    with pytest.raises(Conflict) as taken:
        new_product(repository, category, name="  sPADE ")
    assert taken.value.code == "product_name_taken"


def test_an_unknown_category_is_a_rule_violation(repository: EventSourcedRepository) -> None:
    with pytest.raises(RuleViolation) as refused:
        catalog.create_product(
            repository, CreateProduct("Spade", "", Decimal(10), "nowhere"), ADMIN
        )
    assert refused.value.code == "unknown_category"
    assert refused.value.details[0].field == "category_id"


def test_the_category_must_allow_products(repository: EventSourcedRepository) -> None:
    closed = catalog.create_category(
        repository, CreateCategory("Archive", allows_products=False), ADMIN
    )
    with pytest.raises(RuleViolation) as refused:
        catalog.create_product(
            repository, CreateProduct("Spade", "", Decimal(10), closed.id), ADMIN
        )
    assert refused.value.code == "category_closed"


def test_a_refused_product_does_not_hold_its_name(
    repository: EventSourcedRepository, category: Category
) -> None:
    with pytest.raises(RuleViolation):
        catalog.create_product(
            repository, CreateProduct("Spade", "", Decimal(10), "nowhere"), ADMIN
        )
    assert new_product(repository, category, name="Spade").exists


# price changes


def test_a_new_price_goes_through_the_pricing_rules(
    repository: EventSourcedRepository, premium: Category, clock: ManualClock
) -> None:
    product = new_product(repository, premium, price="90.00")  # 108.00 -> 107.99
    clock.advance(60)
    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("100.00")), ADMIN)
    assert changed.state.base_price == Decimal("100.00")
    assert changed.state.price == Decimal("119.99")
    assert changed.state.price_updated_at == clock.now()
    assert changed.state.created_at != clock.now()
    assert changed.version == 2


def test_the_price_change_event_names_old_new_and_base(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="80.00")
    catalog.change_price(repository, ChangePrice(product.id, Decimal("120.00")), ADMIN)
    recorded = repository.history(Product, product.id)[-1]
    event = repository.events.decode(recorded)
    assert event == ProductPriceChanged(
        old_price=Decimal("80.00"),
        new_price=Decimal("119.99"),
        base_price=Decimal("120.00"),
        requires_approval=False,
        changed_by="admin1",
        changed_at=recorded.occurred_at,
    )


def test_a_price_change_reads_the_products_stream_alone(
    repository: EventSourcedRepository, premium: Category
) -> None:
    product = new_product(repository, premium, price="50.00")
    read = tails_read(repository.store)

    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("60.00")), ADMIN)
    assert changed.state.price == Decimal("72.00")  # the premium category's 20 %
    assert read == [product.stream_id]


def test_a_product_recorded_before_it_kept_its_categorys_flag_is_priced_by_the_category(
    repository: EventSourcedRepository, premium: Category
) -> None:
    product = new_product(repository, premium, price="50.00")
    (created,) = repository.history(Product, product.id)
    legacy = {k: v for k, v in created.data.items() if k != "premium"}
    older = InMemoryEventStore()
    older.append(Append(product.stream_id, 0, [replace(created, data=legacy)]))
    older.append(Append(premium.stream_id, 0, repository.history(Category, premium.id)))
    repository.store = older

    assert repository.load(Product, product.id).state.premium is None
    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("60.00")), ADMIN)
    assert changed.state.price == Decimal("72.00")


def test_a_price_cut_over_half_is_refused(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="80.00")
    with pytest.raises(RuleViolation) as refused:
        catalog.change_price(repository, ChangePrice(product.id, Decimal("39.99")), ADMIN)
    assert refused.value.code == "price_cut_too_deep"


def test_a_price_cut_of_exactly_half_is_allowed(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="80.00")
    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("40.00")), ADMIN)
    assert changed.state.price == Decimal("40.00")


def test_the_cut_rule_compares_effective_prices(
    repository: EventSourcedRepository, premium: Category
) -> None:
    product = new_product(repository, premium, price="80.00")  # 96.00
    changed = catalog.change_price(
        repository, ChangePrice(product.id, Decimal("40.00")), ADMIN
    )  # 48.00
    assert changed.state.price == Decimal("48.00")


def test_setting_the_same_effective_price_records_nothing(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="120.00")  # 119.99
    unchanged = catalog.change_price(repository, ChangePrice(product.id, Decimal("120.50")), ADMIN)
    assert unchanged.version == 1
    assert unchanged.state.base_price == Decimal("120.00")
    assert types_of(repository, product) == ["ProductCreated"]


def test_a_new_price_over_1000_requires_approval(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category, price="800.00")
    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("1200.00")), ADMIN)
    assert changed.state.requires_approval


def test_changing_a_price_over_1000_requires_approval_again(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category, price="1500.00")
    assert not product.state.requires_approval
    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("900.00")), ADMIN)
    assert changed.state.requires_approval


def test_a_change_under_1000_leaves_the_approval_flag_as_it_was(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category, price="500.00")
    changed = catalog.change_price(repository, ChangePrice(product.id, Decimal("600.00")), ADMIN)
    assert not changed.state.requires_approval
    pending = new_product(repository, category, price="1500.00", name="Mower")
    still = catalog.change_price(repository, ChangePrice(pending.id, Decimal("1400.00")), ADMIN)
    assert still.state.requires_approval


def test_a_new_price_follows_the_price_rules(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category)
    with pytest.raises(InvalidValue) as refused:
        catalog.change_price(repository, ChangePrice(product.id, Decimal("-5")), ADMIN)
    assert refused.value.code == "price_not_positive"


# approval and activation


def test_an_approval_clears_requires_approval(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="2000.00")
    approved = catalog.approve(repository, ApproveProduct(product.id), ADMIN)
    assert not approved.state.requires_approval


def test_approving_with_nothing_pending_is_refused(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category)
    with pytest.raises(RuleViolation) as refused:
        catalog.approve(repository, ApproveProduct(product.id), ADMIN)
    assert refused.value.code == "nothing_to_approve"


def test_a_product_awaiting_approval_cannot_be_activated(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="2000.00")
    with pytest.raises(RuleViolation) as refused:
        catalog.activate(repository, ActivateProduct(product.id), ADMIN)
    assert refused.value.code == "approval_pending"
    catalog.approve(repository, ApproveProduct(product.id), ADMIN)
    assert catalog.activate(repository, ActivateProduct(product.id), ADMIN).state.is_active


def test_activating_an_active_product_is_refused(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    with pytest.raises(RuleViolation) as refused:
        catalog.activate(repository, ActivateProduct(product.id), ADMIN)
    assert refused.value.code == "already_active"


# deactivation


def test_deactivating_records_the_trimmed_reason(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    inactive = catalog.deactivate(repository, DeactivateProduct(product.id, "  recalled "), ADMIN)
    assert not inactive.state.is_active
    event = repository.events.decode(repository.history(Product, product.id)[-1])
    assert isinstance(event, ProductDeactivated)
    assert (event.reason, event.deactivated_by) == ("recalled", "admin1")


@pytest.mark.parametrize("reason", ["", "  ", "r" * 501])
def test_a_deactivation_reason_has_1_to_500_characters(
    repository: EventSourcedRepository, category: Category, reason: str
) -> None:
    product = active_product(repository, category)
    with pytest.raises(InvalidValue) as refused:
        catalog.deactivate(repository, DeactivateProduct(product.id, reason), ADMIN)
    assert refused.value.code == "invalid_reason"
    assert refused.value.details[0].field == "reason"


def test_deactivating_an_inactive_product_is_refused(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category)
    with pytest.raises(RuleViolation) as refused:
        catalog.deactivate(repository, DeactivateProduct(product.id, "gone"), ADMIN)
    assert refused.value.code == "already_inactive"


def test_a_deactivated_product_can_be_activated_again(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    catalog.deactivate(repository, DeactivateProduct(product.id, "out of season"), ADMIN)
    assert catalog.activate(repository, ActivateProduct(product.id), ADMIN).state.is_active


# missing, deleted, versions


@pytest.mark.parametrize(
    "command",
    [
        ChangePrice("ghost", Decimal(10)),
        ApproveProduct("ghost"),
        ActivateProduct("ghost"),
        DeactivateProduct("ghost", "why"),
    ],
)
def test_a_command_on_a_missing_product_is_not_found(
    repository: EventSourcedRepository, command: object
) -> None:
    with pytest.raises(NotFound) as missing:
        run(repository, command)
    assert missing.value.code == "product_not_found"


def run(repository: EventSourcedRepository, command: object, version: int | None = None) -> Product:
    if isinstance(command, ChangePrice):
        return catalog.change_price(repository, command, ADMIN, version)
    if isinstance(command, ApproveProduct):
        return catalog.approve(repository, command, ADMIN, version)
    if isinstance(command, ActivateProduct):
        return catalog.activate(repository, command, ADMIN, version)
    assert isinstance(command, DeactivateProduct)
    return catalog.deactivate(repository, command, ADMIN, version)


def test_every_command_on_a_deleted_product_is_not_found(
    repository: EventSourcedRepository, category: Category, clock: ManualClock
) -> None:
    product = active_product(repository, category, price="2000.00")
    product.state = replace(product.state, deleted=True)  # no event deletes one yet
    now = clock.now()
    acts: list[Callable[[], object]] = [
        lambda: product.change_price(Decimal(3000), False, "admin1", now),
        lambda: product.approve("admin1", now),
        lambda: product.activate("admin1", now),
        lambda: product.deactivate("gone", "admin1", now),
        lambda: product.discounted_price(Decimal(10)),
    ]
    for act in acts:
        with pytest.raises(NotFound):
            act()
    assert product.pending == []


def test_the_service_treats_a_deleted_product_as_missing(
    repository: EventSourcedRepository,
    category: Category,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    product = active_product(repository, category)
    load = repository.load

    def load_deleted(cls: type[Product], id: str) -> Product:
        loaded = load(cls, id)
        loaded.state = replace(loaded.state, deleted=True)
        return loaded

    monkeypatch.setattr(repository, "load", load_deleted)
    with pytest.raises(NotFound):
        catalog.load_product(repository, product.id)
    with pytest.raises(NotFound):
        catalog.deactivate(
            repository, DeactivateProduct(product.id, "gone"), ADMIN, expected_version=2
        )


def test_a_stale_version_is_a_mismatch_and_the_current_one_works(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="2000.00")
    with pytest.raises(VersionMismatch) as stale:
        catalog.approve(repository, ApproveProduct(product.id), ADMIN, expected_version=3)
    assert (stale.value.expected, stale.value.actual) == (3, 1)
    assert (
        catalog.approve(repository, ApproveProduct(product.id), ADMIN, expected_version=1).version
        == 2
    )


def test_a_missing_product_is_not_found_before_any_version_check(
    repository: EventSourcedRepository,
) -> None:
    with pytest.raises(NotFound):
        catalog.activate(repository, ActivateProduct("ghost"), ADMIN, expected_version=4)


# queries


def test_the_discounted_price_follows_the_seeds_apply_discount(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="120.00")  # 119.99
    loaded = catalog.load_product(repository, product.id)
    assert loaded.discounted_price(Decimal(50)) == Decimal("60.00")  # 59.995
    assert loaded.discounted_price(Decimal(0)) == Decimal("119.99")
    with pytest.raises(InvalidValue) as refused:
        loaded.discounted_price(Decimal(51))
    assert refused.value.code == "discount_out_of_range"


def test_loading_a_missing_product_is_not_found(repository: EventSourcedRepository) -> None:
    with pytest.raises(NotFound):
        catalog.load_product(repository, "ghost")


# the event stream


def test_the_life_of_a_product_is_its_events(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = new_product(repository, category, price="2000.00")
    catalog.approve(repository, ApproveProduct(product.id), ADMIN)
    catalog.activate(repository, ActivateProduct(product.id), ADMIN)
    catalog.change_price(repository, ChangePrice(product.id, Decimal("1800.00")), ADMIN)
    catalog.deactivate(repository, DeactivateProduct(product.id, "needs approval again"), ADMIN)
    assert types_of(repository, product) == [
        ProductCreated.event_type,
        ProductApproved.event_type,
        ProductActivated.event_type,
        ProductPriceChanged.event_type,
        ProductDeactivated.event_type,
    ]
    assert all(e.metadata.user_id == "admin1" for e in repository.history(Product, product.id))


def test_replaying_the_events_rebuilds_the_live_state(
    repository: EventSourcedRepository, premium: Category
) -> None:
    product = new_product(repository, premium, price="900.00")
    product = catalog.change_price(repository, ChangePrice(product.id, Decimal("950.00")), ADMIN)
    product = catalog.approve(repository, ApproveProduct(product.id), ADMIN)
    product = catalog.activate(repository, ActivateProduct(product.id), ADMIN)
    product = catalog.deactivate(repository, DeactivateProduct(product.id, "stock check"), ADMIN)
    history = [repository.events.decode(r) for r in repository.history(Product, product.id)]
    replayed = Product.rebuild(product.id, history)
    assert replayed.state == product.state
    assert replayed.version == product.version
    assert repository.load(Product, product.id).state == product.state


def test_a_snapshot_round_trip_keeps_the_state_exactly(
    repository: EventSourcedRepository, premium: Category
) -> None:
    product = new_product(repository, premium, price="900.00")
    product = catalog.change_price(repository, ChangePrice(product.id, Decimal("950.10")), ADMIN)
    snapshot = product.snapshot_state()
    assert snapshot["price"] == "1139.99"
    restored = Product.restore(product.id, product.version, snapshot)
    assert restored.state == product.state
    assert isinstance(restored.state.price, Decimal)
    assert isinstance(restored.state.base_price, Decimal)
    assert restored.state.created_at == product.state.created_at
    assert restored.version == product.version


def test_a_long_lived_product_loads_from_its_snapshot(
    repository: EventSourcedRepository, category: Category
) -> None:
    product = active_product(repository, category)
    for n in range(12):
        if n % 2:
            catalog.activate(repository, ActivateProduct(product.id), ADMIN)
        else:
            catalog.deactivate(repository, DeactivateProduct(product.id, f"pause {n}"), ADMIN)
    loaded = repository.load(Product, product.id)
    assert loaded.snapshot_version >= 10
    assert loaded.state.is_active
    assert loaded.version == 14
