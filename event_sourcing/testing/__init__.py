"""What another project needs to test against the kit: contract suites every store, view
and generation adapter must pass (`*_contract.py`, with the lost-ack variant of any
DynamoDB client), the in-memory fakes that pass them, and builders of recorded events.
Test code: never shipped with a function."""
