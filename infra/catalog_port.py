"""Where ordering meets the catalogue: it reads products from the catalogue's streams
(consistent, one bounded read). The other way round, orders hold products through the
event store (`domain.shared.holds`), so the catalogue needs no port of ordering's."""

from __future__ import annotations

from domain.catalog.product import Product
from domain.ordering.ports import ProductCatalog, ProductInfo
from domain.shared.repository import EventSourcedRepository


class EventSourcedCatalog(ProductCatalog):
    def __init__(self, repository: EventSourcedRepository) -> None:
        self.repository = repository

    def product(self, product_id: str) -> ProductInfo | None:
        product = self.repository.load(Product, product_id)
        if not product.is_live:
            return None
        state = product.state
        return ProductInfo(product_id, state.name, state.price, state.is_active)
