"""Drives Chromium through the clinic team's pages and saves a PNG of each (bin/screenshots)."""

import sys
from pathlib import Path

from headless import launch, wait_for  # bin/headless.py, beside this script
from playwright.sync_api import sync_playwright

CLINICIAN = ("dr.rivera@riverside.example", "demo-clinician-pass")
PATIENT = ("maya.chen@example.com", "demo-patient-pass")


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/staff/login/")
    page.get_by_label("Username").fill(CLINICIAN[0])
    page.get_by_label("Password").fill(CLINICIAN[1])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def patient_sign_in(page, url: str) -> None:
    page.goto(f"{url}/my/login/")
    page.get_by_label("Email").fill(PATIENT[0])
    page.get_by_label("Password").fill(PATIENT[1])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def patient_url(page, url: str, name: str) -> str:
    page.goto(f"{url}/staff/")
    return page.get_by_role("link", name=name).first.get_attribute("href")


def main(url: str, out: Path) -> None:
    wait_for(url)
    with sync_playwright() as p:
        browser = launch(p)
        laptop = browser.new_context(viewport={"width": 1280, "height": 900})
        page = laptop.new_page()
        sign_in(page, url)
        shots = []

        def shot(name: str, path: str, *, full: bool = True, target=page) -> None:
            target.goto(f"{url}{path}")
            file = out / f"{name}.png"
            target.screenshot(path=str(file), full_page=full)
            shots.append(file)

        shot("clinic-table", "/staff/")
        arjun = patient_url(page, url, "Arjun Mehta")
        shot("patient-page", arjun)
        shot("enrol-form", "/staff/patients/new/")
        lucas = patient_url(page, url, "Lucas Silva")
        shot("prescribe-form", lucas + "prescribe/")
        shot("delivery-problems", "/staff/deliveries/")

        phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        mobile = phone.new_page()
        sign_in(mobile, url)
        # A phone's first screen, as the clinician sees it.
        shot("phone-clinic-table", "/staff/", target=mobile, full=False)
        shot("phone-patient-page", arjun, target=mobile, full=False)
        shot("phone-clinic-table-full", "/staff/", target=mobile)
        shot("phone-patient-page-full", arjun, target=mobile)

        # The patient's own page (Maya), on a laptop and on a phone.
        own = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        patient_sign_in(own, url)
        shot("my-page", "/my/", target=own)
        own_phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        ).new_page()
        patient_sign_in(own_phone, url)
        shot("phone-my-page-first-screen", "/my/", target=own_phone, full=False)
        shot("phone-my-page", "/my/", target=own_phone)
        browser.close()
    for file in shots:
        print(file)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
