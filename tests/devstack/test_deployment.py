"""What gets created and resolved from a template (moto backend, no function runs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from devstack.template import TemplateError
from tests.devstack.support import REPO_ROOT, LogLines, unique_stack_name

TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  WithExtras: {{Type: String, Default: "no"}}
Conditions:
  Extras: !Equals [!Ref WithExtras, "yes"]
Globals:
  Function:
    Runtime: python3.12
    CodeUri: {REPO_ROOT}
    Handler: tests.devstack.fixtures.toy.echo
  HttpApi:
    StageVariables: {{from: globals}}
Resources:
  DeadLetters:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${{AWS::StackName}}-work"
      VisibilityTimeout: 5
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 3
  Things:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {{Name: thing_id, Type: Number}}
  Optional:
    Type: AWS::DynamoDB::Table
    Condition: Extras
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
  Log:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${{AWS::StackName}}-custom-log"
      ProvisionedThroughput: {{ReadCapacityUnits: 1, WriteCapacityUnits: 1}}
      AttributeDefinitions:
        - {{AttributeName: pk, AttributeType: S}}
        - {{AttributeName: sk, AttributeType: S}}
      KeySchema:
        - {{AttributeName: pk, KeyType: HASH}}
        - {{AttributeName: sk, KeyType: RANGE}}
      LocalSecondaryIndexes:
        - IndexName: by_sk
          KeySchema: [{{AttributeName: pk, KeyType: HASH}}, {{AttributeName: sk, KeyType: RANGE}}]
          Projection: {{ProjectionType: KEYS_ONLY}}
      StreamSpecification: {{StreamViewType: KEYS_ONLY}}
  Api:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${{AWS::StackName}}-api"
      Environment:
        Variables:
          WORK_QUEUE: !Ref Work
          WORK_ARN: !GetAtt Work.Arn
          LOG_STREAM: !GetAtt Log.StreamArn
          ENDPOINT: !Sub "https://${{ServerlessHttpApi}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
          FLAG: true
      Events:
        Root:
          Type: HttpApi
          Properties: {{Path: /things, Method: get}}
        Fallback:
          Type: HttpApi
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Api
      EventSourceArn: !GetAtt Log.StreamArn
      StartingPosition: LATEST
      BatchSize: 7
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {{}}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    path = tmp_path_factory.mktemp("deployment") / "template.yaml"
    path.write_text(TEMPLATE)
    stack = LocalStack(path, stack_name=unique_stack_name("dep"), env={}, log=LogLines())
    stack.provision()
    yield stack
    stack.stop()


def test_resources_in_dependency_order_with_their_names(stack: LocalStack) -> None:
    sqs = stack.clients.sqs()
    work = stack.queue_url("Work")
    assert work.endswith(f"/{stack.stack_name}-work")
    attributes = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "5"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert (
        redrive["deadLetterTargetArn"] == stack.deployment.resource("DeadLetters").attributes["Arn"]
    )
    assert stack.table_name("Log") == f"{stack.stack_name}-custom-log"
    assert stack.table_name("Things") == f"{stack.stack_name}-Things"
    things = stack.clients.dynamodb().describe_table(TableName=stack.table_name("Things"))
    assert things["Table"]["AttributeDefinitions"] == [
        {"AttributeName": "thing_id", "AttributeType": "N"}
    ]


def test_conditions_skip_resources(stack: LocalStack) -> None:
    assert "Optional" not in stack.deployment.resources
    assert stack.deployment.not_emulated == ["Alarm (AWS::CloudWatch::Alarm)"]


def test_function_environment_and_name(stack: LocalStack) -> None:
    env = stack.resolved_env("Api")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == f"{stack.stack_name}-api"
    assert env["WORK_QUEUE"] == stack.queue_url("Work")
    assert env["WORK_ARN"].startswith("arn:aws:sqs:us-east-1:123456789012:")
    assert env["LOG_STREAM"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/")
    api_id = stack.deployment.model.apis["ServerlessHttpApi"].api_id
    assert env["ENDPOINT"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    assert env["FLAG"] == "true"


def test_implicit_api_routes_and_esm_resource(stack: LocalStack) -> None:
    model = stack.deployment.model
    assert sorted(route.route_key for route in model.routes) == ["$default", "GET /things"]
    assert model.apis["ServerlessHttpApi"].stage_variables == {"from": "globals"}
    (mapping,) = model.stream_mappings
    assert mapping.function_logical_id == "Api"
    assert mapping.starting_position == "LATEST"
    assert mapping.batch_size == 7
    assert mapping.maximum_retry_attempts == -1


def test_template_errors_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        TEMPLATE.replace("LOG_STREAM: !GetAtt Log.StreamArn", "LOG_STREAM: !GetAtt Nope.Arn")
    )
    stack = LocalStack(path, stack_name=unique_stack_name("bad"), env={}, log=LogLines())
    try:
        with pytest.raises(TemplateError, match="Nope"):
            stack.provision()
    finally:
        stack.stop()
