"""Every projection of the shop, in the order the projector applies them."""

from __future__ import annotations

from domain.catalog.views import CatalogViews
from domain.identity.views import UserProfiles
from domain.ordering.views import OrderingViews
from domain.product_stats import ProductStats
from event_sourcing.projector import Projection


def all_projections() -> list[Projection]:
    return [UserProfiles(), CatalogViews(), OrderingViews(), ProductStats()]


def projection_named(name: str) -> Projection:
    """The projection called `name`; a clear error naming the others if there is none."""
    for projection in all_projections():
        if projection.name == name:
            return projection
    names = ", ".join(p.name for p in all_projections())
    raise KeyError(f"no projection is called {name!r}: the projections are {names}")
