"""`sam build`, as docs/operations.md says: lean artifacts that would run on the runtime."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import DEFAULT_TEMPLATE
from tests.support.template import load

ROOT = DEFAULT_TEMPLATE.parent
LIMIT_BYTES = 50 * 1000 * 1000


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def layers_of(function: str) -> list[str]:
    template = load()
    inherited = template["Globals"]["Function"].get("Layers", [])
    own = template["Resources"][function]["Properties"].get("Layers", [])
    return [layer["Ref"] for layer in [*inherited, *own]]


def functions() -> list[str]:
    return [
        lid for lid, r in load()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sam") / "build"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "sam"), "build", "--build-dir", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return target


def test_a_function_ships_only_the_projects_deployed_packages(built: Path) -> None:
    for function in functions():
        assert sorted(p.name for p in (built / function).iterdir()) == [
            "domain",
            "event_sourcing",
            "functions",
            "infra",
        ], function


def test_no_artifact_ships_boto3_botocore_or_a_test_fake(built: Path) -> None:
    shipped = {p.name for p in built.glob("*/python/*")} | {p.name for p in built.glob("*/*")}

    assert not shipped & {"boto3", "botocore", "s3transfer", "tests", "moto"}
    assert not list(built.rglob("memory.py"))


def test_bytecode_is_only_for_the_runtimes_python(built: Path) -> None:
    tags = {p.name.split(".")[-2] for p in built.rglob("*.pyc")}

    assert tags <= {"cpython-312"}


def test_every_function_with_its_layers_is_under_50_mb_unzipped(built: Path) -> None:
    totals = {
        f: size(built / f) + sum(size(built / layer) for layer in layers_of(f)) for f in functions()
    }

    assert {f: t for f, t in totals.items() if t >= LIMIT_BYTES} == {}


CHARGES = {"OutsideCallsFunction"}
"""The functions whose imports reach stripe: the order process charges and refunds (its
handler runs domain.ordering.process through Container.order_process). Placing an order
(OrderingCommandsFunction) only checks a payment method's form, which imports no stripe:
tests/functions/test_ordering_http.py proves it with stripe unimportable."""


def test_stripe_is_shipped_only_with_the_function_that_charges_and_can_read_its_secret() -> None:
    resources = load()["Resources"]
    reads_stripe_secret = {
        f
        for f in functions()
        if "StripeSecret" in str(resources[f]["Properties"].get("Policies", ""))
    }
    with_stripe = {f for f in functions() if "StripeLayer" in layers_of(f)}

    assert with_stripe == reads_stripe_secret == CHARGES


def test_only_the_order_process_calls_the_payment_gateway_to_move_money() -> None:
    import ast

    callers = set()
    for path in (ROOT / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("charge", "refund")
                and "payments" in ast.unparse(node.func.value)
            ):
                callers.add(path.relative_to(ROOT).as_posix())

    assert callers == {"domain/ordering/process.py"}


def test_stripe_charges_declines_and_refunds_without_the_params_its_layer_leaves_out() -> None:
    code = """
import importlib.abc, sys
class NoParams(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "stripe.params" or name.startswith("stripe.params."):
            raise ImportError(f"{name} is not in the layer")
        return None
sys.meta_path.insert(0, NoParams())
from decimal import Decimal
from infra.payments import StripePayments
from tests.contracts.test_payments import RecordedStripe
payments = StripePayments(lambda: "sk_test_recorded", http_client=RecordedStripe())
paid = payments.charge(idempotency_key="k1", amount=Decimal("1.50"),
                       payment_method="pm_card_visa", description="order o1")
declined = payments.charge(idempotency_key="k2", amount=Decimal("1.50"),
                           payment_method="pm_card_chargeDeclined", description="order o2")
payments.refund(idempotency_key="k3", charge_id=paid.charge_id, amount=Decimal("1.50"))
assert "stripe.params" not in sys.modules
print(paid.succeeded, declined.succeeded)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "False"]
