"""Fuzz: schemathesis against the API's own OpenAPI document, as each role, on a live server.

    .venv/bin/python bench/fuzz_api.py                        # SQLite file of its own
    .venv/bin/python bench/fuzz_api.py --postgres postgres://postgres@127.0.0.1:5432/kr_fuzz

It makes a fresh database (a throwaway SQLite file, or the PostgreSQL database named,
DROPPED and created again), migrates it, loads the demo clinic (seed_demo), starts gunicorn
on `--port` and signs in as the demo clinician, staff member and patient. Then, for each
role, `st run` generates requests for every operation (examples, coverage and fuzzing
phases, at most `--max-examples` each) and checks that none answers a server error and
that every status code is one the document declares (gunicorn's own 414 for an over-long
request line aside: bench/fuzz_checks.py). The exit status is 0 only when every
role's run passed. The routes in LEFT_OUT are left out: they revoke what the run signs in
with, or lock the other roles' runs out.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import live_server

ROLES = {
    "clinician": ("dr.rivera@riverside.example", "demo-clinician-pass"),
    "staff": ("frontdesk@riverside.example", "demo-staff-pass"),
    "patient": ("maya.chen@example.com", "demo-patient-pass"),
}
# What would end the run's own sign-in or lock the demo's people out: the run would go on
# answering 401s (sign-outs, a password changed, a second factor turned on or off, a
# member deactivated, a clinic that suddenly requires a second factor).
LEFT_OUT = [
    "/api/v1/auth/logout/",
    "/api/v1/auth/logout-all/",
    "/api/v1/auth/tokens/{id}/",
    "/api/v1/auth/password/",
    "/api/v1/auth/2fa/confirm/",
    "/api/v1/auth/2fa/disable/",
    "/api/v1/team/{id}/",
    "/api/v1/clinic/",
    "/api/v1/me/calendar/reset/",
]


def fresh_postgres(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=live_server.BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


def sign_in(port: int, username: str, password: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="fuzz on this PostgreSQL database")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--max-examples", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--roles", default=",".join(ROLES))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kneerocks-fuzz-") as folder:
        folder = Path(folder)
        if args.postgres:
            fresh_postgres(args.postgres)
            database = args.postgres
        else:
            database = folder / "clinic.sqlite3"
        env = live_server.environment(database, folder)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", "--url", f"http://127.0.0.1:{args.port}")
        results = {}
        with live_server.serving(database, folder, port=args.port):
            base = f"http://127.0.0.1:{args.port}"
            for role in args.roles.split(","):
                token = sign_in(args.port, *ROLES[role])
                began = time.monotonic()
                command = [
                    str(Path(sys.executable).with_name("st")), "run", f"{base}/api/v1/schema/",
                    "--url", base,
                    "--header", f"Authorization: Bearer {token}",
                    "--checks", "not_a_server_error,app_status_code_conformance",
                    "--phases", "examples,coverage,fuzzing",
                    "--max-examples", str(args.max_examples),
                    "--seed", str(args.seed),
                    "--generation-database", "none",
                    "--request-timeout", "30",
                    # One worker: Python 3.11's ast module is not thread-safe, and
                    # hypothesis parses lambdas with it while it generates.
                    "--workers", "1",
                    "--no-color",
                    *(f"--exclude-path={path}" for path in LEFT_OUT),
                ]  # fmt: skip
                done = subprocess.run(
                    command,
                    cwd=live_server.BASE_DIR,
                    env={**env, "SCHEMATHESIS_HOOKS": "bench.fuzz_checks"},
                    capture_output=True,
                    text=True,
                )
                results[role] = done.returncode
                print(f"==> {role}: exit {done.returncode} in {time.monotonic() - began:.0f} s")
                summary = done.stdout.split("SUMMARY", 1)[-1] if done.returncode == 0 else None
                print(summary if summary is not None else done.stdout[-12000:], done.stderr[-2000:])
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{where}: " + ", ".join(f"{role} {'passed' if rc == 0 else 'FAILED'}"
                                   for role, rc in results.items()))  # fmt: skip
    return 0 if all(rc == 0 for rc in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
