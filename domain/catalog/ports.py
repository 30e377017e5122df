"""What the catalogue needs to know from outside itself."""

from __future__ import annotations

from abc import ABC, abstractmethod


class ProductHolds(ABC):
    @abstractmethod
    def orders_holding(self, product_id: str) -> int:
        """How many orders (not cancelled) hold the product; 0 if none."""


class NoOrders(ProductHolds):
    """Until ordering says otherwise, nothing holds any product."""

    def orders_holding(self, product_id: str) -> int:
        return 0
