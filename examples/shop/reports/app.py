"""The shop's report endpoint, in Python next to the Node API: what this environment sells in, and
which release answers. Standard library only, so it has no requirements to vendor."""
import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.DEBUG if os.environ.get("LOG_LEVEL") == "debug" else logging.INFO)


def handler(event, context):
    logger.debug("report for %s", os.environ.get("STAGECRAFT_ENV"))
    report = {
        "status": "ok",
        "runtime": os.environ.get("AWS_EXECUTION_ENV"),
        "currency": os.environ.get("CURRENCY"),
        "environment": os.environ.get("STAGECRAFT_ENV"),
        "release": os.environ.get("STAGECRAFT_RELEASE"),
        "requestId": context.aws_request_id,
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(report)}
