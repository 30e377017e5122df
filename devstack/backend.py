"""The AWS endpoint of the stack: an embedded moto server, or the one `AWS_ENDPOINT_URL` names."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

import boto3
from botocore.config import Config
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"
# Real DynamoDB stream iterators expire after 15 minutes; moto keeps every one it ever issued
# (one per GetRecords call), so the embedded server forgets all but the most recent ones.
_ITERATORS_KEPT = 20_000
_HOUSEKEEPING_SECONDS = 30.0


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom the stack and its functions call AWS."""

    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str

    def environment(self) -> dict[str, str]:
        """The variables that point an AWS SDK at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }


class AwsClients:
    """boto3 clients bound to the stack's endpoint (one shared session; clients are thread-safe)."""

    def __init__(self, settings: AwsSettings) -> None:
        self.settings = settings
        self._session = boto3.session.Session(
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            region_name=settings.region,
        )
        self._config = Config(
            retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30
        )
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        """A client of `service` at the stack's endpoint."""
        with self._lock:
            session: Any = self._session  # boto3-stubs type each service by its literal name
            return session.client(
                service, endpoint_url=self.settings.endpoint_url, config=self._config
            )

    def dynamodb(self) -> DynamoDBClient:
        return cast("DynamoDBClient", self.client("dynamodb"))

    def dynamodbstreams(self) -> DynamoDBStreamsClient:
        return cast("DynamoDBStreamsClient", self.client("dynamodbstreams"))

    def sqs(self) -> SQSClient:
        return cast("SQSClient", self.client("sqs"))

    def secretsmanager(self) -> SecretsManagerClient:
        return cast("SecretsManagerClient", self.client("secretsmanager"))


class Backend:
    """Starts moto when no endpoint is given; `stop()` shuts it down again."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._server: Any = None
        self._stop = threading.Event()

    @property
    def embedded(self) -> bool:
        return self._server is not None

    def start(self) -> AwsSettings:
        endpoint = self._env.get("AWS_ENDPOINT_URL")
        if not endpoint:
            endpoint = self._start_moto()
        return AwsSettings(
            endpoint_url=endpoint,
            region=self._env.get("AWS_REGION")
            or self._env.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION,
            access_key_id=self._env.get("AWS_ACCESS_KEY_ID") or FAKE_CREDENTIAL,
            secret_access_key=self._env.get("AWS_SECRET_ACCESS_KEY") or FAKE_CREDENTIAL,
        )

    def _start_moto(self) -> str:
        from moto.server import ThreadedMotoServer

        from devstack import iam, moto_fixes, partitions

        moto_fixes.apply()
        iam.install()
        partitions.install()
        # werkzeug logs every request at INFO through its own handler otherwise
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # loopback only: `devstack invoke` finds it through .devstack/<stack>.json
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.answer(partitions.PATH, partitions.answer)  # the hot keys
        host, port = self._server.get_host_and_port()
        threading.Thread(target=self._housekeeping, name="moto-housekeeping", daemon=True).start()
        return f"http://{host}:{port}"

    def answer(self, path: str, body: Callable[[Mapping[str, list[str]]], Any]) -> None:
        """Answer GET <embedded endpoint><path> with `body(query)` as JSON, before moto sees
        the request: what the local stack tells `eventshop-admin --local` beyond AWS's APIs."""
        wsgi = self._server._server
        app = wsgi.app

        def answering(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO") != path:
                return app(environ, start_response)
            data = json.dumps(body(parse_qs(environ.get("QUERY_STRING") or "")))
            return Response(data, mimetype="application/json")(environ, start_response)

        wsgi.app = answering

    def _housekeeping(self) -> None:
        """Drop all but the `_ITERATORS_KEPT` most recently issued shard iterators of the
        in-process moto, every `_HOUSEKEEPING_SECONDS`."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        while not self._stop.wait(_HOUSEKEEPING_SECONDS):
            for regions in list(dynamodbstreams_backends.values()):
                for backend in list(regions.values()):
                    iterators = backend.shard_iterators
                    for key in list(iterators)[: max(0, len(iterators) - _ITERATORS_KEPT)]:
                        iterators.pop(key, None)

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
