"""Every projection of the shop, in the order the projector applies them."""

from __future__ import annotations

from domain.catalog.views import CatalogViews
from domain.identity.views import UserProfiles
from domain.ordering.views import OrderingViews
from domain.shared.projector import Projection


def all_projections() -> list[Projection]:
    return [UserProfiles(), CatalogViews(), OrderingViews()]
