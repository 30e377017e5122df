"""The kit's DynamoDB adapter: the only place that speaks DynamoDB."""
