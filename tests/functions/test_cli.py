"""The operator CLI against moto."""

from __future__ import annotations

from typing import Any

import pytest

from infra import cli
from infra import container as composition
from tests.functions.conftest import Stack


def test_create_admin_is_idempotent_and_the_admin_can_sign_in(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "admin password 9")
    assert cli.main(["create-admin", "--email", "boss@example.com"]) == 0
    assert cli.main(["create-admin", "--email", "boss@example.com"]) == 0
    assert "admin boss@example.com ready" in capsys.readouterr().out
    answer = stack.api.request(
        "POST",
        "/auth/token",
        json_body={"email": "boss@example.com", "password": "admin password 9"},
    )
    assert answer.status == 200


def test_create_admin_refuses_a_bad_email_clearly(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "admin password 9")
    assert cli.main(["create-admin", "--email", "nope"]) == 1
    assert "not a valid email" in capsys.readouterr().err


def test_create_admin_without_a_password_or_a_terminal_says_what_to_set(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main(["create-admin", "--email", "boss@example.com"]) != 0
    assert "set ADMIN_PASSWORD" in capsys.readouterr().err


def test_the_progress_bar_counts_events_per_second() -> None:
    import io

    from rich.console import Console
    from rich.progress import Progress

    screen = io.StringIO()
    with Progress(*cli.progress_columns(), console=Console(file=screen, width=120)) as bar:
        task = bar.add_task("rebuild", total=10)
        bar.advance(task, 4)
        bar.console.print(bar.make_tasks_table(bar.tasks))
    shown = screen.getvalue()
    assert "4/10 events" in shown
    assert "events/s" in shown
    assert "bytes/s" not in shown


def test_rebuild_catches_the_views_up_from_the_event_table(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"email": "ada@example.com", "password": "pass word 1"}
    assert stack.api.request("POST", "/users", json_body=body).status == 201
    assert cli.main(["rebuild", "--drop-after", "0", "--fence", "0"]) == 0
    assert "users: generation 2 (version 1) built from 1 streams" in capsys.readouterr().out
    token = stack.api.request("POST", "/auth/token", json_body=body).json["access_token"]
    me = stack.api.request("GET", "/users/me", token=token)
    assert me.status == 200
    assert me.json["email"] == "ada@example.com"


def test_local_without_a_running_local_stack_says_to_start_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--local", "status"]) == 2
    assert "make run" in capsys.readouterr().err


def test_an_unknown_projection_is_refused_naming_the_known_ones(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["rebuild", "--projection", "nope"]) == 2
    assert "catalog" in capsys.readouterr().err


def test_events_lists_a_streams_events_with_metadata_as_json(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    body = {"email": "ada@example.com", "password": "pass word 1"}
    user = stack.api.request("POST", "/users", json_body=body).json["id"]
    capsys.readouterr()
    assert cli.main(["--json", "events", f"user-{user}"]) == 0
    listed = json.loads(capsys.readouterr().out)["events"]
    assert [e["type"] for e in listed] == ["UserRegistered"]
    assert listed[0]["metadata"]["event_id"]
    assert cli.main(["events", "user-nobody"]) == 2


def test_rebuild_changed_rebuilds_only_a_projection_whose_version_moved(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from domain.catalog.views import CatalogViews

    body = {"email": "ada@example.com", "password": "pass word 1"}
    assert stack.api.request("POST", "/users", json_body=body).status == 201
    stack.project()  # the first projector records the versions it builds with
    capsys.readouterr()
    assert cli.main(["--json", "rebuild", "--changed"]) == 0
    assert json.loads(capsys.readouterr().out)["rebuilt"] == []
    moved = CatalogViews.version + 1
    monkeypatch.setattr(CatalogViews, "version", moved)
    assert cli.main(["--json", "rebuild", "--changed", "--drop-after", "0", "--fence", "0"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["rebuilt"]
    assert (report["projection"], report["generation"], report["version"]) == ("catalog", 2, moved)
    assert cli.main(["--json", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    catalog = next(p for p in status["projections"] if p["projection"] == "catalog")
    assert (catalog["live"]["version"], catalog["needs_rebuild"]) == (moved, False)


def test_a_projection_added_to_a_built_stack_is_flagged_then_filled_by_rebuild_changed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Deployed onto a stack with history, a new projection sees new events only: its
    first generation is recorded as built by no version, and `rebuild --changed` fills it."""
    import json

    from domain.product_stats import ProductStats
    from domain.projections import all_projections
    from infra import container as composition

    admin = stack.admin_token()

    def call(method: str, path: str, body: Any = None, token: str = admin) -> Any:
        answer = stack.api.request(method, path, json_body=body, token=token)
        assert answer.status in (200, 201), answer.text
        return answer.json

    def customer(name: str) -> str:
        body = {"email": f"{name}@example.com", "password": f"{name} password 1"}
        call("POST", "/users", body)
        return str(call("POST", "/auth/token", body)["access_token"])

    category = call("POST", "/categories", {"name": "Books"})["id"]
    body = {"name": "Dune", "description": "d", "price": "9.99", "category_id": category}
    book = call("POST", "/products", body)["id"]
    call("POST", f"/products/{book}/activate")
    ada, bob = customer("ada"), customer("bob")
    call("POST", f"/products/{book}/reviews", {"rating": 4, "comment": "good"}, ada)
    with monkeypatch.context() as before:  # the stack before the projection existed
        older = [p for p in all_projections() if not isinstance(p, ProductStats)]
        before.setattr("infra.generations.all_projections", lambda: older)
        composition.use(None)
        stack.project()
    composition.use(None)
    call("POST", f"/products/{book}/reviews", {"rating": 2, "comment": "meh"}, bob)
    stack.project()
    assert call("GET", f"/products/{book}/stats")["review_count"] == 1  # new events only
    capsys.readouterr()
    assert cli.main(["--json", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    (stats,) = [p for p in status["projections"] if p["projection"] == "product-stats"]
    assert (stats["live"]["version"], stats["needs_rebuild"]) == (0, True)
    assert cli.main(["--json", "rebuild", "--changed", "--drop-after", "0", "--fence", "0"]) == 0
    rebuilt = json.loads(capsys.readouterr().out)["rebuilt"]
    assert [(r["projection"], r["version"]) for r in rebuilt] == [("product-stats", 1)]
    composition.use(None)  # past the readers' pointer cache
    answer = call("GET", f"/products/{book}/stats")
    assert (answer["review_count"], answer["ratings"]["2"], answer["ratings"]["4"]) == (2, 1, 1)


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ({}, "You must specify a region."),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "VIEWS_TABLE is not set"),
    ],
)
def test_a_command_with_no_stack_named_says_in_two_lines_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    said: str,
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "VIEWS_TABLE", "EVENTS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert cli.main(["status"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert said in lines[0]
    assert "--local" in lines[1]
    assert "--stack NAME" in lines[1]


def test_status_shows_no_lag_once_the_readers_applied_everything_and_what_is_behind_otherwise(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    body = {"email": "ada@example.com", "password": "pass word 1"}
    assert stack.api.request("POST", "/users", json_body=body).status == 201
    stack.run_process()
    capsys.readouterr()
    assert cli.main(["--json", "status"]) == 0
    readers = {r["reader"]: r for r in json.loads(capsys.readouterr().out)["readers"]}
    for name in ("projector", "order-process"):
        assert readers[name]["lag_seconds"] == 0, name
        assert readers[name]["events_behind"] == 0, name
        assert readers[name]["newest_applied_event_age_seconds"] >= 0, name
        assert any(readers[name]["position"].values()), name

    other = {"email": "bob@example.com", "password": "pass word 2"}
    assert stack.api.request("POST", "/users", json_body=other).status == 201
    capsys.readouterr()
    assert cli.main(["--json", "status"]) == 0
    readers = {r["reader"]: r for r in json.loads(capsys.readouterr().out)["readers"]}
    assert readers["projector"]["events_behind"] == 1
    assert readers["projector"]["lag_seconds"] > 0
    assert readers["order-process"]["events_behind"] == 1, "a registration sends a welcome"

    assert cli.main(["status"]) == 0
    text = capsys.readouterr().out
    for column in ("position:", "lag:", "events behind: 1", "newest applied event:", "parked"):
        assert column in text
    assert "last error: none" in text


def test_rebuilding_every_projection_switches_them_all_before_it_drops_the_old_generations(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"email": "ada@example.com", "password": "pass word 1"}
    assert stack.api.request("POST", "/users", json_body=body).status == 201
    stack.project()
    capsys.readouterr()

    assert cli.main(["rebuild", "--drop-after", "1", "--fence", "0"]) == 0

    lines = capsys.readouterr().out.splitlines()
    switched = [n for n, line in enumerate(lines) if line.endswith(": switching readers")]
    dropped = [n for n, line in enumerate(lines) if ": dropping generation 1" in line]
    assert len(switched) == len(dropped) == 4
    assert max(switched) < min(dropped), "the readers' delays run at once, not one by one"
    assert not [line for line in lines if "has not passed the switch" in line]


def test_reapply_erasures_erases_again_who_a_restore_brought_back(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    body = {"email": "ada@example.com", "password": "pass word 1"}
    ada = stack.api.request("POST", "/users", json_body=body).json["id"]
    restore_point = datetime.now(UTC).isoformat()
    restorable = ("EventsTable", "KeysTable")
    backup = {t: stack.client.scan(TableName=stack.tables[t])["Items"] for t in restorable}
    admin = stack.admin_token()
    assert stack.api.request("DELETE", f"/users/{ada}", token=admin).status == 204
    for logical_id, items in backup.items():  # a point-in-time restore of the two tables
        table = stack.tables[logical_id]
        key = [
            k["AttributeName"]
            for k in stack.client.describe_table(TableName=table)["Table"]["KeySchema"]
        ]
        for item in stack.client.scan(TableName=table)["Items"]:
            stack.client.delete_item(TableName=table, Key={k: item[k] for k in key})
        for item in items:
            stack.client.put_item(TableName=table, Item=item)
    composition.use(None)  # the functions' caches of keys expire (KeyCache's TTL)
    assert stack.api.request("POST", "/auth/token", json_body=body).status == 200  # back

    assert cli.main(["reapply-erasures", "--since", restore_point]) == 0

    assert "1 erasures logged since" in capsys.readouterr().out
    assert stack.api.request("POST", "/auth/token", json_body=body).status == 401
    assert stack.api.request("POST", "/users", json_body=body).status == 201


def as_the_release_before_sealing_wrote_it(stack: Stack) -> None:
    """Every personal value of the event table in clear, and the email claims by address:
    what the releases before crypto-shredding stored."""
    import json

    from event_sourcing.events import registry
    from event_sourcing.personal import personal_fields

    personal = composition.container().personal_data
    table = stack.tables["EventsTable"]
    for item in stack.client.scan(TableName=table)["Items"]:
        key = {"stream_id": item["stream_id"], "version": item["version"]}
        if item["kind"]["S"] == "claim":
            owner = item["owner"]["S"]
            stack.client.delete_item(TableName=table, Key=key)
            email = "ada@example.com" if owner.startswith("user-") else "?"
            stack.client.put_item(
                TableName=table, Item={**item, "stream_id": {"S": f"claim#email#{email}"}}
            )
            continue
        if item["kind"]["S"] != "event":
            continue
        cls = registry.type_named(item["type"]["S"])
        data = json.loads(item["data"]["S"])
        for name in personal_fields(cls):
            if isinstance(data.get(name), str):
                data[name] = personal.open(data[name])
        clear: dict[str, Any] = {**item, "data": {"S": json.dumps(data)}}
        if "snapshot" in item:
            state = json.loads(item["snapshot"]["M"]["state"]["S"])
            for name in ("email", "password_hash", "comment"):
                if isinstance(state.get(name), str):
                    state[name] = personal.open(state[name])
            clear["snapshot"] = {"M": {**item["snapshot"]["M"], "state": {"S": json.dumps(state)}}}
        stack.client.put_item(TableName=table, Item=clear)


def test_seal_personal_seals_what_older_releases_stored_in_clear_so_erasure_reaches_it(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"email": "ada@example.com", "password": "pass word 1"}
    ada = stack.api.request("POST", "/users", json_body=body).json["id"]
    token = stack.api.request("POST", "/auth/token", json_body=body).json["access_token"]
    for n in range(9):  # ten events: a snapshot, of a state with its password hash
        changed = {"old_password": f"pass word {n + 1}", "new_password": f"pass word {n + 2}"}
        assert stack.api.request("POST", "/users/me/password", json_body=changed, token=token)
        body["password"] = changed["new_password"]
        token = stack.api.request("POST", "/auth/token", json_body=body).json["access_token"]
    as_the_release_before_sealing_wrote_it(stack)
    events = stack.tables["EventsTable"]
    assert "ada@example.com" in str(stack.client.scan(TableName=events)["Items"])

    assert cli.main(["seal-personal"]) == 0
    assert cli.main(["seal-personal"]) == 0  # again: nothing left to do

    first, again = capsys.readouterr().out.strip().splitlines()[-2:]
    assert "10 events, 1 snapshots and 1 email claims sealed" in first, first
    assert "0 events, 0 snapshots and 0 email claims sealed" in again
    stored = str(stack.client.scan(TableName=events)["Items"])
    assert "ada@example.com" not in stored
    assert "$2b$" not in stored  # no bcrypt hash
    assert stack.api.request("POST", "/auth/token", json_body=body).status == 200
    admin = stack.admin_token()
    assert stack.api.request("DELETE", f"/users/{ada}", token=admin).status == 204
    assert stack.api.request("POST", "/users", json_body=body).status == 201


def test_seal_personal_moves_a_claim_again_after_a_transaction_conflict(stack: Stack) -> None:
    """DynamoDB cancels a transaction that meets another on one item (moto never does):
    the move is tried again, not taken for done."""
    from types import SimpleNamespace
    from typing import cast

    from infra.adapters import Adapters
    from infra.sealing import _claim

    table = stack.tables["EventsTable"]
    item = {
        "stream_id": {"S": "claim#email#ada@example.com"},
        "version": {"N": "0"},
        "kind": {"S": "claim"},
        "owner": {"S": "user-ada"},
    }
    stack.client.put_item(TableName=table, Item=item)
    real = stack.client
    conflicts = [1]

    class Conflicting:
        exceptions = real.exceptions

        def transact_write_items(self, **request: Any) -> Any:
            if conflicts:
                conflicts.pop()
                reasons: Any = [{"Code": "None"}, {"Code": "TransactionConflict"}]
                raise real.exceptions.TransactionCanceledException(
                    {
                        "Error": {"Code": "TransactionCanceledException"},
                        "CancellationReasons": reasons,
                    },
                    "TransactWriteItems",
                )
            return real.transact_write_items(**request)

    pseudonyms = composition.container().pseudonyms
    root = cast(Adapters, SimpleNamespace(dynamodb=Conflicting(), pseudonyms=pseudonyms))
    assert _claim(root, table, item) == 1
    left = [i["stream_id"]["S"] for i in real.scan(TableName=table)["Items"]]
    assert "claim#email#ada@example.com" not in left
    assert any(s.startswith("claim#email#") for s in left)
