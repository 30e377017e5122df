"""Keys one bounded context holds and another retires (see `Hold` and `Retire`).

An order holds each catalogue product it has a line of until it is cancelled; deleting
a product retires its key. The store refuses either when it would break the other, so a
product is never deleted from under an order, however close the two requests."""

from __future__ import annotations

PRODUCT = "product"
