"""schemathesis hooks for bench/fuzz_api.py (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis
from schemathesis.specs.openapi.checks import status_code_conformance

# gunicorn answers 414 itself for a request line over its limit (4 KB by default): the
# web server's answer, not the application's, so not part of the API's document.
SERVER_ONLY = {414}


@schemathesis.check
def app_status_code_conformance(ctx, response, case):
    """status_code_conformance, for the answers the application itself gives."""
    if response.status_code in SERVER_ONLY:
        return None
    return status_code_conformance(ctx, response, case)
