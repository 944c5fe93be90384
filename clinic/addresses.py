"""Which addresses the product may post to: a webhook (a patient's or a clinic's) never
reaches this machine or a private network (the cloud metadata service, the broker, the
database). Checked when an address is saved, from what it says, and again at each post,
after its host name is resolved (prescriptions.reminders.channels.webhook_address)."""

import ipaddress
from urllib.parse import urlsplit


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    # is_global already rules out private, loopback, link-local and unspecified addresses.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def url_host_public(url: str) -> bool:
    """Whether the URL's host may be public: not this machine's name, and not an address
    written out that is private or local. Host names are trusted until they resolve."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return is_public_address(host)
    except ValueError:
        return True
