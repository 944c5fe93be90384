"""What every reminder channel offers the reminders' path: a `Transport`, one subclass per
kind, registered in the package's TRANSPORTS under the channel value it sends for.

The path asks the transport of a reminder's channel, never the channel's name:
- `words`: the templates of the message it sends, and how it shapes them;
- `prepare`: what can be built in the minute before the instant (an email's MIME text);
- `open` / `close`: a connection shared by a batch of its reminders;
- `send`: the message out, or `DeliveryError` (try again later) or
  `PermanentDeliveryError` (retrying cannot help: the patient lacks what it needs);
- `resend_in_doubt`: whether a send a stopped worker may or may not have made goes again
  (the receiver can drop the repeat) or is failed (it cannot, so never twice);
- `daily_limit`: how many a patient may get a local day, if there is a limit.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar, Protocol

from prescriptions.reminders.channels import DeliveryError, PermanentDeliveryError

__all__ = ["DeliveryError", "PermanentDeliveryError", "Sendable", "Transport", "Unknown"]


class Sendable(Protocol):
    """A claimed reminder as the delivery reads it (deliver.Claimed)."""

    id: int
    prescription_id: int
    slot: str
    local_date: date
    fire_at: datetime
    phone: str
    webhook_url: str | None
    webhook_secret: str | None


class Transport:
    channel: ClassVar[str]
    # A send in doubt after a worker stopped goes again under the same key (Message-ID,
    # Idempotency-Key), so the receiver drops a repeat. Where a repeat cannot be told apart
    # (a text message), it is never sent twice: each goes alone, its marks wait for the
    # disk, and one in doubt is failed.
    resend_in_doubt: ClassVar[bool] = True
    # Why one over the daily limit is skipped.
    limit_reached: ClassVar[str] = ""

    def daily_limit(self) -> int | None:
        """How many reminders of this kind a patient may get in a local day (None: any)."""
        return None

    def words(self, render: Callable[[str], str], context: dict) -> dict[str, str]:
        """The Message fields this channel sends, from the templates in
        prescriptions/templates/reminders/ (`render` takes a template's name)."""
        return {}

    def prepare(self, reminder, message, now: datetime) -> Any:
        """What can be built before the instant, kept with the message (None: nothing)."""
        return None

    def open(self) -> Any:
        """A connection for a batch's reminders of this kind, opened before any is marked
        `sending` (a server that is down fails early)."""
        return None

    def close(self, connection: Any) -> None:
        pass

    def send(self, reminder: Sendable, message, prepared: Any, connection: Any) -> None:
        raise NotImplementedError


def one_line(text: str) -> str:
    return " ".join(text.split())


class Unknown(Transport):
    """A channel no transport sends for: nothing to say, and a send fails for good."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, reminder, message, prepared, connection) -> None:
        raise PermanentDeliveryError(f"unknown channel {self.channel!r}")
