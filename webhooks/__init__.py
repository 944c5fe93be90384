"""The clinic's webhooks: endpoints a clinician registers, and a signed delivery of each
event the endpoint asked for (Standard Webhooks), retried until it is answered (docs/webhooks.md).

Built on the events (clinic/events.py): nothing imports this app but config.
"""
