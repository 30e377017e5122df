"""moto for the tests, keeping boto3's default session between mocks."""

from __future__ import annotations

import functools
from typing import Any


def mock_aws() -> Any:
    """moto's `mock_aws`, except that boto3's default session survives it: the service
    models that session has loaded (a tenth of a second of JSON per kind of client, every
    test a stack) serve every later test of the process. Its credentials are the test
    environment's fakes (tests/conftest.py), never a real account's."""
    from moto import mock_aws as moto_mock_aws

    _one_signing_key_for_symmetric_keys()
    return moto_mock_aws(config={"core": {"reset_boto3_session": False}})


@functools.cache
def _one_signing_key_for_symmetric_keys() -> None:
    """moto 5.2 gives every KMS key an RSA-2048 signing key, symmetric ones too (where KMS
    has none: they cannot sign), at 40 ms of CPU a key and one key per test's stack. A
    symmetric key's is never used, so the tests' symmetric keys share one; asymmetric
    keys still get their own. Relies on `moto.kms.models.generate_private_key`."""
    from moto.kms import models
    from moto.kms.utils import KeySpec

    generate = models.generate_private_key  # type: ignore[attr-defined]
    shared = functools.cache(generate)

    def private_key(key_spec: str) -> Any:
        if key_spec in KeySpec.rsa_key_specs() or key_spec in KeySpec.ecc_key_specs():
            return generate(key_spec)
        return shared("SYMMETRIC_DEFAULT")

    models.generate_private_key = private_key  # type: ignore[attr-defined]
