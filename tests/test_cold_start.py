"""Importing a handler creates no AWS client: it does not import boto3, botocore's session
or client machinery, or the X-Ray SDK, which keeps it well under the cost of `import boto3`
(measured in bench/). Powertools itself imports the tiny `botocore` package for its user
agent; that creates nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.template import function_handlers

CHECK = """
import importlib, sys
module = importlib.import_module(sys.argv[1])
assert callable(getattr(module, sys.argv[2])), "no handler"
heavy = ("boto3", "botocore.session", "botocore.client", "aws_xray_sdk", "jwt")
loaded = sorted(m for m in heavy if m in sys.modules)
print(",".join(loaded))
"""


@pytest.mark.parametrize(("logical_id", "handler"), sorted(function_handlers().items()))
def test_importing_a_handler_loads_no_aws_sdk(logical_id: str, handler: str) -> None:
    module, attribute = handler.rsplit(".", 1)
    run = subprocess.run(
        [sys.executable, "-c", CHECK, module, attribute],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "", "PYTHONPATH": ".", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"{logical_id} imports {run.stdout.strip()} at import time"
