"""DynamoDB Streams records in the shape Lambda delivers them."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any


def _epoch_seconds(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(float(value))


def _attribute(value: Any) -> Any:
    """Binary attributes back to base64 text, as in Lambda's JSON (boto3 decoded them to bytes)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return value
    ((kind, inner),) = value.items()
    if kind == "B" and isinstance(inner, bytes | bytearray):
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {
            "BS": [
                base64.b64encode(item).decode() if isinstance(item, bytes) else item
                for item in inner
            ]
        }
    if kind == "M":
        return {"M": _image(inner)}
    if kind == "L":
        return {"L": [_attribute(item) for item in inner]}
    return {kind: inner}


def _image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _attribute(value) for name, value in image.items()}


def lambda_record(raw: Mapping[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    """A `GetRecords` record as the element of a Lambda event's `Records`."""
    source = raw.get("dynamodb") or {}
    data: dict[str, Any] = {}
    if "ApproximateCreationDateTime" in source:
        data["ApproximateCreationDateTime"] = _epoch_seconds(source["ApproximateCreationDateTime"])
    for image in ("Keys", "NewImage", "OldImage"):
        if image in source:
            data[image] = _image(source[image])
    for key in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if key in source:
            data[key] = source[key]
    record: dict[str, Any] = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:
        record["userIdentity"] = raw["userIdentity"]
    return record


def sequence_number(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])
