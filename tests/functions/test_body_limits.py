"""What the OpenAPI document says of a body's strings is what the API enforces: for every
string field of every request body, the documented maximum length is accepted and one
character more is refused (400, naming the field), whichever layer refuses it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functions.conftest import Stack
from tests.support.http_api import Answer

CUSTOMER = {"email": "limits@example.com", "password": "customer pass 1"}


def email_of_length(n: int) -> str:
    """A well-formed address of exactly `n` characters (labels of at most 63)."""
    local = "a" * min(64, n - len("@x.com"))
    rest = n - len(local) - len("@") - len(".com")
    labels = []
    while rest > 0:
        size = min(63, rest if rest != 64 else 62)
        labels.append("b" * size)
        rest -= size + 1  # the dot after it
    domain = ".".join(labels) + ".com"
    address = f"{local}@{domain}"
    assert len(address) == n, (len(address), n)
    return address


def string_of_length(field: str, n: int) -> str:
    return email_of_length(n) if field == "email" else "x" * n


class World:
    """An admin, a customer, a category, a product on sale and a draft order: each route's
    body reaches the layer that checks it, not a 404 before it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.admin = stack.admin_token()
        assert self.call("POST", "/users", CUSTOMER).status == 201
        self.customer = str(self.call("POST", "/auth/token", CUSTOMER).json["access_token"])
        self.category = str(
            self.call("POST", "/categories", {"name": "Books"}, self.admin).json["id"]
        )
        product = {
            "name": "Book",
            "description": "d",
            "price": "10.00",
            "category_id": self.category,
        }
        self.product = str(self.call("POST", "/products", product, self.admin).json["id"])
        assert (
            self.call("POST", f"/products/{self.product}/activate", token=self.admin).status == 200
        )
        self.call("PUT", f"/inventory/{self.product}", {"on_hand": 100}, self.admin)
        line = {"product_id": self.product, "quantity": 1}
        self.order = str(self.call("POST", "/orders", {"items": [line]}, self.customer).json["id"])
        self.user = str(self.call("GET", "/users/me", token=self.customer).json.get("id", "u"))

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Answer:
        return self.stack.api.request(method, path, json_body=body, token=token)

    def path_of(self, template: str) -> str:
        ids = {"/orders/": self.order, "/products/": self.product, "/inventory/": self.product}
        ids |= {"/users/": self.user, "/categories/": self.category}
        prefix = next((p for p in ids if template.startswith(p)), "")
        path = template
        for name in ("{id}", "{product_id}"):
            path = path.replace(name, ids.get(prefix, "x"), 1)
        return path

    def token_for(self, path: str) -> str:
        customers = ("/orders", "/users/me", "/auth")
        mine = path.startswith(customers) or path.endswith("/reviews")
        return self.customer if mine else self.admin

    def value(self, name: str, schema: dict[str, Any], document: dict[str, Any]) -> Any:
        """A valid value of a field (the one under test aside)."""
        schema = resolve(schema, document)
        known: dict[str, Any] = {
            "email": "someone@example.com",
            "password": "wrong password 1",
            "old_password": "wrong password 1",
            "new_password": "new password 1",
            "token": "t",
            "price": "10.00",
            "category_id": self.category,
            "product_id": self.product,
            "payment_method": "pm_card_visa",
            "rating": 5,
            "quantity": 1,
            "on_hand": 1,
        }
        if name in known:
            return known[name]
        if schema.get("type") == "array":
            return [self.body_of(schema["items"], document)]
        if schema.get("type") == "boolean":
            return True
        return "x"

    def body_of(self, schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        schema = resolve(schema, document)
        return {
            name: self.value(name, prop, document)
            for name, prop in schema.get("properties", {}).items()
        }


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return dict(document["components"]["schemas"][name])
    for key in ("anyOf", "allOf"):
        if key in schema:
            return next(resolve(s, document) for s in schema[key] if s.get("type") != "null")
    return schema


def string_fields(
    schema: dict[str, Any], document: dict[str, Any], at: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every string property of a body, nested ones (an order's lines) included, by path."""
    schema = resolve(schema, document)
    found: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(prop, document)
        if prop.get("type") == "string":
            found.append(((*at, name), prop))
        elif prop.get("type") == "array" and resolve(prop["items"], document).get("properties"):
            found += string_fields(prop["items"], document, (*at, name, 0))
    return found


def with_value(body: dict[str, Any], at: tuple[str | int, ...], value: str) -> dict[str, Any]:
    import copy

    changed = copy.deepcopy(body)
    target: Any = changed
    for step in at[:-1]:
        target = target[step]
    target[at[-1]] = value
    return changed


def refused_for(answer: Answer, field: str) -> bool:
    if answer.status != 400:
        return False
    details = answer.json["error"]["details"]
    # refused for its length (an unsupported payment method is a 400 of another kind)
    return any(
        str(d["field"]).rsplit(".", 1)[-1] == field and "characters" in str(d["issue"])
        for d in details
    )


@pytest.fixture
def world(stack: Stack) -> World:
    return World(stack)


def test_every_body_string_takes_its_documented_maximum_and_refuses_one_more(
    world: World,
) -> None:
    document = world.call("GET", "/openapi.json").json
    checked: list[str] = []
    for template, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            body = world.body_of(schema, document)
            path = world.path_of(template)
            for at, prop in string_fields(schema, document):
                name = str(at[-1])
                where = f"{method.upper()} {template} {'.'.join(map(str, at))}"
                if "pattern" in prop and "maxLength" not in prop:
                    continue  # a pattern bounds it (money)
                assert "maxLength" in prop, f"{where}: no documented maximum"
                most = prop["maxLength"]
                token = world.token_for(template)
                longest = with_value(body, at, string_of_length(name, most))
                accepted = world.call(method.upper(), path, longest, token)
                assert not refused_for(accepted, name), f"{where} at {most}: {accepted.text}"
                over = with_value(body, at, string_of_length(name, most + 1))
                refused = world.call(method.upper(), path, over, token)
                assert refused_for(refused, name), f"{where} at {most + 1}: {refused.text}"
                checked.append(where)
    # every kind of body was met (a route renamed or a body lost would shrink this)
    assert len(checked) >= 15, checked
