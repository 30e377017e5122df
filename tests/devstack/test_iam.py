"""IAM as the local stack evaluates it: policies, and what one API call asks IAM for."""

from __future__ import annotations

from devstack.iam import Policy, Request, requests_of

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/events"


def policy(*statements: dict[str, object]) -> Policy:
    return Policy.from_documents([{"Version": "2012-10-17", "Statement": list(statements)}])


def test_nothing_is_allowed_that_no_statement_allows() -> None:
    assert not Policy().allows("dynamodb:GetItem", TABLE)


def test_an_allow_matches_its_actions_case_insensitively_and_its_resources_exactly() -> None:
    granted = policy({"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE})

    assert granted.allows("DynamoDB:getitem", TABLE)
    assert not granted.allows("dynamodb:GetItem", TABLE.replace("events", "EVENTS"))
    assert not granted.allows("dynamodb:PutItem", TABLE)


def test_wildcards_match_any_run_of_characters() -> None:
    granted = policy({"Effect": "Allow", "Action": "dynamodb:Get*", "Resource": f"{TABLE}/index/*"})

    assert granted.allows("dynamodb:GetItem", f"{TABLE}/index/gsi1")
    assert not granted.allows("dynamodb:GetItem", TABLE)


def test_an_explicit_deny_wins_over_any_allow() -> None:
    granted = policy(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )

    assert granted.allows("dynamodb:PutItem", TABLE)
    assert not granted.allows("dynamodb:DeleteItem", TABLE)


def test_not_action_allows_everything_else() -> None:
    granted = policy({"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "Resource": "*"})

    assert granted.allows("dynamodb:PutItem", TABLE)
    assert not granted.allows("dynamodb:DeleteItem", TABLE)


def test_a_conditional_allow_is_not_taken_as_granted() -> None:
    granted = policy(
        {
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": TABLE,
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "shop"}},
        }
    )

    assert not granted.allows("dynamodb:GetItem", TABLE)


def test_each_item_of_a_write_transaction_is_checked_by_its_own_action() -> None:
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "events", "Item": {}}},
            {"Update": {"TableName": "events", "Key": {}}},
            {"ConditionCheck": {"TableName": "claims", "Key": {}}},
            {"Delete": {"TableName": "events", "Key": {}}},
        ]
    }

    asked = requests_of("dynamodb", "TransactWriteItems", transaction, REGION, ACCOUNT)

    assert asked == [
        Request("dynamodb:PutItem", TABLE),
        Request("dynamodb:UpdateItem", TABLE),
        Request("dynamodb:ConditionCheckItem", TABLE.replace("events", "claims")),
        Request("dynamodb:DeleteItem", TABLE),
    ]


def test_a_query_on_an_index_is_checked_on_the_index() -> None:
    asked = requests_of(
        "dynamodb", "Query", {"TableName": "events", "IndexName": "gsi1"}, REGION, ACCOUNT
    )

    assert asked == [Request("dynamodb:Query", f"{TABLE}/index/gsi1")]


def test_a_batch_is_checked_on_every_table_it_names() -> None:
    asked = requests_of(
        "dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}, REGION, ACCOUNT
    )

    assert [r.resource.rsplit("/", 1)[-1] for r in asked] == ["a", "b"]
    assert {r.action for r in asked} == {"dynamodb:BatchGetItem"}


def test_mail_is_checked_on_the_senders_identity() -> None:
    asked = requests_of(
        "sesv2", "SendEmail", {"FromEmailAddress": "Shop <orders@shop.example>"}, REGION, ACCOUNT
    )

    assert asked == [
        Request("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/orders@shop.example")
    ]


def test_a_queue_is_named_by_its_url_and_a_secret_by_its_arn() -> None:
    queue = requests_of(
        "sqs", "SendMessage", {"QueueUrl": "http://x/123456789012/failures"}, REGION, ACCOUNT
    )
    secret = requests_of("secretsmanager", "GetSecretValue", {"SecretId": "key"}, REGION, ACCOUNT)

    assert queue == [Request("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures")]
    assert secret == [
        Request(
            "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:key"
        )
    ]
