"""On-failure destinations of event source mappings (SQS queues, SNS topics)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.backend import AwsClients
from devstack.logs import LogSink


class FailureDestinations:
    """Sends a JSON message to the queue or topic an ARN names."""

    def __init__(
        self, clients: AwsClients, log: LogSink, queue_url_for_arn: Callable[[str], str | None]
    ) -> None:
        self._sqs = clients.sqs()
        self._clients = clients
        self._sns: Any = None
        self._log = log
        self._queue_url_for_arn = queue_url_for_arn

    def send(self, arn: str, message: Mapping[str, Any]) -> bool:
        body = json.dumps(message)
        try:
            if arn.startswith("arn:") and ":sqs:" in arn:
                url = self._queue_url_for_arn(arn)
                if url is None:
                    _, _, _, _, account, name = arn.split(":", 5)
                    url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                        "QueueUrl"
                    ]
                self._sqs.send_message(QueueUrl=url, MessageBody=body)
                return True
            if arn.startswith("arn:") and ":sns:" in arn:
                if self._sns is None:
                    self._sns = self._clients.client("sns")
                self._sns.publish(TopicArn=arn, Message=body)
                return True
        except (ClientError, BotoCoreError) as error:
            self._log(f"[pump] cannot send to {arn}: {error}")
            return False
        self._log(f"[pump] on-failure destination {arn} is not an SQS queue or SNS topic")
        return False
