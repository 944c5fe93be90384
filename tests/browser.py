"""A real browser for tests of the web pages: Debian's Chromium driven by Playwright.

Fixtures (registered in tests/conftest.py):
- `page`: a fresh browser tab at a laptop's size, its relative URLs resolved against
  pytest-django's `live_server` (so `page.goto("/staff/")` works);
- `phone_page`: the same at a 390 px wide phone's size, touch and all.
Helper: `sign_in(page, username)` signs in through a web sign-in form.

Chromium is the system's (`/usr/bin/chromium`, installed by bin/setup); Playwright never
downloads one. When it is missing the tests FAIL: a skipped browser test would let a
broken page through CI unnoticed.

The pages are served by `live_server` from another thread, so the test's own rows must
be committed: these fixtures imply `transactional_db`.
"""

import os

import pytest

from bin.headless import CHROMIUM, launch
from tests.factories import PASSWORD

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Long enough for a busy two-core machine, short enough that a missing element fails soon.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def chromium_browser():
    """One Chromium per test module (launching one costs about a second)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run bin/setup (as root it installs Debian's chromium) "
            "or apt-get install -y chromium; the browser tests need it"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, and Django then
    # refuses ORM calls from it (SynchronousOnlyOperation). The test thread only ever runs
    # synchronous code, so the check is lifted while this module's browser lives, and put
    # back afterwards so every other test keeps it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(chromium_browser, live_server, transactional_db):
    context, tab = _new_page(chromium_browser, live_server, viewport=LAPTOP)
    yield tab
    context.close()


@pytest.fixture
def phone_page(chromium_browser, live_server, transactional_db):
    context, tab = _new_page(
        chromium_browser,
        live_server,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield tab
    context.close()


def sign_in(page, username: str, password: str = PASSWORD, *, path: str = "/staff/login/"):
    """Signs in through the form at `path` as a person would, and waits for the next page."""
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return page
