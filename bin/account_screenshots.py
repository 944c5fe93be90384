"""Drives Chromium through a clinic's team, from an invitation to an offboarding, and saves
a PNG of each step (bin/account-screenshots)."""

import base64
import re
import sys
import time
from pathlib import Path

from django_otp.oath import totp
from headless import launch, wait_for  # bin/headless.py, beside this script
from playwright.sync_api import sync_playwright

CLINICIAN = ("dr.rivera@riverside.example", "demo-clinician-pass")
COLLEAGUE = "sam.okafor@riverside.example"
COLLEAGUE_PASSWORD = "rocking-gently-since-2026"


def join_link(mail: Path, url: str) -> str:
    """The /join/ link of the newest email, once the worker has sent it."""
    for _ in range(100):
        for file in sorted(mail.glob("*.log"), key=lambda f: f.stat().st_mtime, reverse=True):
            found = re.search(rf"{re.escape(url)}/join/[^\s/]+/", file.read_text())
            if found:
                return found.group(0)
        time.sleep(0.2)
    sys.exit("no invitation email arrived (is the worker running?)")


def code_from(secret_text: str) -> str:
    key = base64.b32decode(secret_text.replace(" ", "").upper())
    return f"{totp(key):06d}"


def set_up_second_factor(page) -> None:
    """Types the code an authenticator app would show for the key on the setup page."""
    page.get_by_label("6-digit code from your app").fill(
        code_from(page.locator("#secret").inner_text())
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on the second factor").click()


def main(url: str, out: Path, mail: Path) -> None:
    wait_for(url)
    shots = []
    with sync_playwright() as p:
        browser = launch(p)
        doctor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        colleague = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        ).new_page()

        def shot(page, name: str, *, full: bool = True) -> None:
            file = out / f"account-{len(shots) + 1:02d}-{name}.png"
            page.screenshot(path=str(file), full_page=full)
            shots.append(file)

        doctor.goto(f"{url}/staff/login/")
        doctor.get_by_label("Username").fill(CLINICIAN[0])
        doctor.get_by_label("Password").fill(CLINICIAN[1])
        with doctor.expect_navigation():
            doctor.get_by_role("button", name="Sign in").click()

        # Secured: the clinician turns on a second factor of their own, then requires one
        # of everyone on the team.
        doctor.goto(f"{url}/staff/account/second-factor/")
        set_up_second_factor(doctor)
        shot(doctor, "clinician-recovery-codes", full=False)
        doctor.goto(f"{url}/staff/team/")
        doctor.get_by_label("Require a second factor for everyone on the team").check()
        with doctor.expect_navigation():
            doctor.locator("#second-factor").get_by_role("button", name="Save").click()

        # Staffed: an invitation, and the colleague joins from the email's link, then is led
        # to set up their own second factor before anything else.
        invite = doctor.locator("#invite")
        invite.get_by_label("First name").fill("Sam")
        invite.get_by_label("Last name").fill("Okafor")
        invite.get_by_label("Email").fill(COLLEAGUE)
        invite.get_by_label("Role").select_option("staff")
        with doctor.expect_navigation():
            invite.get_by_role("button", name="Send the invitation").click()
        shot(doctor, "team-invited")
        colleague.goto(join_link(mail, url))
        colleague.get_by_label("Choose a password").fill(COLLEAGUE_PASSWORD)
        colleague.get_by_label("The same password again").fill(COLLEAGUE_PASSWORD)
        shot(colleague, "join-page")
        with colleague.expect_navigation():
            colleague.get_by_role("button", name="Join and sign in").click()
        shot(colleague, "joined-led-to-second-factor")
        set_up_second_factor(colleague)
        shot(colleague, "recovery-codes")
        colleague.goto(f"{url}/staff/")
        shot(colleague, "clinic-table-after-setup", full=False)
        colleague.goto(f"{url}/staff/account/")
        shot(colleague, "account-page")

        # Offboarded: deactivated, and the colleague's open page refuses the next click.
        doctor.goto(f"{url}/staff/team/")
        doctor.get_by_role("link", name="Deactivate Sam Okafor").click()
        shot(doctor, "deactivate-confirm")
        with doctor.expect_navigation():
            doctor.get_by_role("button", name="Yes, deactivate").click()
        colleague.goto(f"{url}/staff/")
        shot(colleague, "deactivated-next-click")
        doctor.goto(f"{url}/staff/team/")
        shot(doctor, "team-and-security-log")
        browser.close()
    for file in shots:
        print(file)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
