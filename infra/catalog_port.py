"""Where ordering meets the catalogue: it reads products from the catalogue's streams
(consistent, one bounded read). The other way round, orders hold products through the
event store (`domain.holds`, `event_sourcing.guards`), so the catalogue needs no port of
ordering's."""

from __future__ import annotations

from collections.abc import Iterable

from domain.catalog.product import Product
from domain.ordering.ports import ProductCatalog, ProductInfo
from event_sourcing.repository import EventSourcedRepository


class EventSourcedCatalog(ProductCatalog):
    def __init__(self, repository: EventSourcedRepository) -> None:
        self.repository = repository

    def product(self, product_id: str) -> ProductInfo | None:
        return _info(self.repository.load(Product, product_id))

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo | None]:
        loaded = self.repository.load_many(Product, product_ids)
        return {product_id: _info(product) for product_id, product in loaded.items()}


def _info(product: Product) -> ProductInfo | None:
    if not product.is_live:
        return None
    state = product.state
    return ProductInfo(product.id, state.name, state.price, state.is_active)
