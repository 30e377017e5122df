"""The key an order holds (one per product it has a line of) and a product's deletion
retires: the one name the catalogue and ordering share for it."""

PRODUCT = "product"
