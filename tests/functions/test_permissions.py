"""The functions run under their roles (template.yaml through SAM's translator): a grant
taken out of the template is a refused call, as it would be on AWS."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from devstack import iam
from tests.functions.conftest import open_stack
from tests.functions.test_ordering_http import Shop
from tests.support.roles import translated


def without_action(template: Any, function: str, action: str) -> Any:
    """The translated template, with `action` removed from every statement of the role."""
    stripped = copy.deepcopy(template)
    role = stripped["Resources"][f"{function}Role"]["Properties"]
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if isinstance(statement, dict) and isinstance(statement.get("Action"), list):
                statement["Action"] = [a for a in statement["Action"] if a != action]
    return stripped


def test_ordering_needs_delete_item_on_the_event_table_to_let_go_of_an_orders_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An order's hold of a product is an item of its own: taken by a transaction's Put,
    # let go of by its Delete, which IAM checks against dynamodb:DeleteItem.
    template = without_action(translated(), "OrderingCommandsFunction", "dynamodb:DeleteItem")
    with open_stack(monkeypatch, template) as stack:
        shop = Shop(stack)
        product = shop.product("Dune", stock=3)
        order = shop.order(shop.ada, (product, 1))
        denied_before = len(iam.registry.denials)

        answer = shop.call("POST", f"/orders/{order['id']}/cancel", {}, shop.ada)

        assert answer.status == 500
        denied = iam.registry.denials[denied_before:]
        assert [(d.principal.function, d.request.action) for d in denied] == [
            ("OrderingCommandsFunction", "dynamodb:DeleteItem")
        ]
        assert denied[0].request.resource.endswith(f":table/{stack.tables['EventsTable']}")


def test_the_same_order_is_accepted_under_the_templates_own_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open_stack(monkeypatch) as stack:
        shop = Shop(stack)
        product = shop.product("Dune", stock=3)

        order = shop.order(shop.ada, (product, 1))

        assert order["status"] == "draft"


def test_a_query_function_may_not_write_the_views(monkeypatch: pytest.MonkeyPatch) -> None:
    with open_stack(monkeypatch) as stack, stack.acting_as("CatalogQueriesFunction"):
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError) as refused:
            stack.client.put_item(
                TableName=stack.tables["ViewsTable"], Item={"pk": {"S": "x"}, "sk": {"S": "y"}}
            )

    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "CatalogQueriesFunction" in refused.value.response["Error"]["Message"]
