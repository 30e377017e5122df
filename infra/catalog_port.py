"""Where the catalogue and ordering meet: ordering reads products from the catalogue's
streams (consistent, one bounded read); the catalogue asks ordering's view which orders
hold a product."""

from __future__ import annotations

from domain.catalog.ports import ProductHolds
from domain.catalog.product import Product
from domain.ordering.ports import ProductCatalog, ProductInfo
from domain.ordering.views import orders_holding
from domain.shared.repository import EventSourcedRepository
from domain.shared.views import ViewReader


class EventSourcedCatalog(ProductCatalog):
    def __init__(self, repository: EventSourcedRepository) -> None:
        self.repository = repository

    def product(self, product_id: str) -> ProductInfo | None:
        product = self.repository.load(Product, product_id)
        if not product.is_live:
            return None
        state = product.state
        return ProductInfo(product_id, state.name, state.price, state.is_active)


class OrderViewHolds(ProductHolds):
    """Orders holding a product, from the ordering read model (one Query, one item)."""

    def __init__(self, views: ViewReader) -> None:
        self.views = views

    def orders_holding(self, product_id: str) -> int:
        return orders_holding(self.views, product_id)
