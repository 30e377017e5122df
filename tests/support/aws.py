"""moto for the tests, keeping boto3's default session between mocks."""

from __future__ import annotations

from typing import Any


def mock_aws() -> Any:
    """moto's `mock_aws`, except that boto3's default session survives it: the service
    models that session has loaded (a tenth of a second of JSON per kind of client, every
    test a stack) serve every later test of the process. Its credentials are the test
    environment's fakes (tests/conftest.py), never a real account's."""
    from moto import mock_aws as moto_mock_aws

    return moto_mock_aws(config={"core": {"reset_boto3_session": False}})
