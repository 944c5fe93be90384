"""Check-in POST under gunicorn on PostgreSQL against a bare Django view, load from wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kr_ledger_bench \
        .venv/bin/python bench/checkin_post.py [--port 8151] [--seconds 15]

Starts two gunicorn servers on the configured database (the product, config.wsgi, on
--port; the bare view of bench/bare_checkin.py on --port + 1), each with --workers sync
workers, and drives each with `wrk` (Debian package) from a separate process: the same
patient's token, the same body. First at full load (--connections), bare view and product
taking turns for --rounds rounds so that both see the same share of a shared machine's
load; then the product at a lighter load (--light connections: one keeps one of the two
workers busy, about half its throughput): p50 and p99 from wrk's latency distribution.
The per-user API throttle is lifted for the run (USER_THROTTLE_RATE, counted per second
so that its history stays as short as a real user's) since one patient posts thousands of
times. Target: the product at >= 60 % of the bare
view's requests per second; at half load p99 <= 5 x p50. Peak RSS of one product worker.
"""

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from django.utils import timezone
from harness import record
from knox.models import get_token_model

from clinic.models import Clinic, User
from patients.services import patient_enrol
from prescriptions import services
from prescriptions.models import Protocol

BASE = Path(__file__).resolve().parent.parent
VENV = BASE / ".venv" / "bin"


def patient_and_token(number: int = 0):
    """The bench clinic's patient `number` (made once, with a prescription) and a new token."""
    clinic, _ = Clinic.objects.get_or_create(
        slug="bench-post", defaults={"name": "Bench POST", "timezone": "UTC"}
    )
    clinician, _ = User.objects.get_or_create(
        username="post.dr@example.test", defaults={"role": "clinician", "clinic": clinic}
    )
    email = f"post.patient{number or ''}@example.test"
    user = User.objects.filter(username=email).first()
    if user is None:
        patient = patient_enrol(
            clinic=clinic,
            enrolled_by=clinician,
            first_name="Post",
            last_name="Bench",
            email=email,
        ).patient
        user = patient.user
        user.is_active = True
        user.save(update_fields=["is_active"])
        services.prescription_create(
            patient=patient,
            clinician=clinician,
            protocol=Protocol.objects.get(slug="knee-rocks"),
            start_date=timezone.now().date() - timedelta(days=3),
            slots=[{"kind": "morning", "time": clock_time(7)}],
        )
    rx = user.patient.prescriptions.first()
    _, token = get_token_model().objects.create(user=user)
    return rx, token


def wrk_script(patients: int) -> str:
    """A wrk script (its path) posting a check-in as each of `patients` patients in turn."""
    posts = []
    for number in range(patients):
        rx, token = patient_and_token(number)
        body = {
            "prescription": rx.id,
            "slot": "other",
            "performed_at": datetime.now(UTC).isoformat(),
            "pain_before": 3,
        }
        posts.append(f"{{{json.dumps(token)}, {json.dumps(json.dumps(body))}}}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        # Each request the next patient's token and body (each wrk thread from its own start).
        script.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"local posts = {{{', '.join(posts)}}}\n"
            "local i = 0\n"
            "function init() i = math.random(#posts) end\n"
            "function request()\n"
            "  i = i % #posts + 1\n"
            '  wrk.headers["Authorization"] = "Bearer " .. posts[i][1]\n'
            "  return wrk.format(nil, nil, nil, posts[i][2])\n"
            "end\n"
        )
    return script.name


def serve(app: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--pythonpath",
            f"{BASE / 'bench'},{BASE}",
            "--log-level",
            "warning",
        ],
        cwd=BASE,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # answering (the bare app has no /healthz)
        except OSError:
            time.sleep(0.3)
    return server


def wrk(url: str, script: str, connections: int, seconds: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(2, connections)),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The server still answers the requests queued when wrk stopped: let it finish them
    # before the next run, whose measure they would share.
    time.sleep(1)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, flags=re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": to_ms(latency["50"]),
        "p99": to_ms(latency["99"]),
        "errors": int(errors.group(1)) if errors else 0,
    }


def combined(runs: list[dict]) -> dict:
    """Rounds of equal length: their mean rate, the median round's latencies."""
    middle = sorted(runs, key=lambda run: run["rate"])[len(runs) // 2]
    return {
        "rate": sum(run["rate"] for run in runs) / len(runs),
        "p50": middle["p50"],
        "p99": middle["p99"],
        "errors": sum(run["errors"] for run in runs),
    }


def to_ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def worker_rss_mb(server: subprocess.Popen) -> float:
    """Peak RSS (VmHWM) of the largest worker of a gunicorn master."""
    peaks = []
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
    return max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8151)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--light", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--patients",
        type=int,
        default=1,
        help="patients posting in turn (1: every request locks the same prescription row)",
    )
    args = parser.parse_args()

    script = wrk_script(args.patients)
    # A budget no run reaches, counted over one second: the history of request times the
    # throttle keeps stays about as long as a real user's at the default 600/min, instead
    # of every request of a minute of load.
    env = {**os.environ, "USER_THROTTLE_RATE": "100000/s"}
    product = serve("config.wsgi:application", args.port, args.workers, env)
    bare = serve(
        "bare_checkin:application",
        args.port + 1,
        args.workers,
        {**env, "DJANGO_SETTINGS_MODULE": "bare_checkin"},
    )
    try:
        product_url = f"http://127.0.0.1:{args.port}/api/v1/check-ins/"
        bare_url = f"http://127.0.0.1:{args.port + 1}/checkin/"
        wrk(product_url, script, 2, 2)  # warm up both
        wrk(bare_url, script, 2, 2)
        turns = max(1, args.seconds // args.rounds)
        bare_runs, product_runs = [], []
        for _ in range(args.rounds):
            bare_runs.append(wrk(bare_url, script, args.connections, turns))
            product_runs.append(wrk(product_url, script, args.connections, turns))
        full_bare, full = combined(bare_runs), combined(product_runs)
        light = wrk(product_url, script, args.light, args.seconds)
        rss = worker_rss_mb(product)
    finally:
        for server in (product, bare):
            server.terminate()
            server.wait()
        os.unlink(script)

    share = full["rate"] / full_bare["rate"]
    spread = light["p99"] / light["p50"]
    record(
        "Check-in POST under gunicorn (PostgreSQL) against a bare Django view",
        [
            [
                f"throughput, {args.connections} connections",
                f"{full['rate']:.0f} req/s (p50 {full['p50']:.0f} ms, p99 {full['p99']:.0f} ms)",
                f"{full_bare['rate']:.0f} req/s (p50 {full_bare['p50']:.0f} ms)",
                f"{share:.0%}",
                ">= 60 %",
                "met" if share >= 0.6 else "missed",
            ],
            [
                f"latency at {args.light} connections "
                f"({light['rate'] / full['rate']:.0%} of full throughput)",
                f"p50 {light['p50']:.1f} ms, p99 {light['p99']:.1f} ms",
                "",
                f"p99 = {spread:.1f} x p50",
                "p99 <= 5 x p50",
                "met" if spread <= 5 else "missed",
            ],
            ["peak RSS of one gunicorn worker", f"{rss:.0f} MB", "", "", "", ""],
        ],
        ["measure", "product", "bare view (same run)", "ratio", "target", ""],
        notes=(
            f"{args.workers} sync workers each; full load: {args.rounds} rounds of {turns} s, "
            f"bare view and product in turn (mean rate, latencies of the median round); "
            f"light load: {args.seconds} s; {args.patients} patient(s) posting in turn; "
            "non-2xx answers: "
            f"product {full['errors'] + light['errors']}, bare {full_bare['errors']}."
        ),
    )


if __name__ == "__main__":
    main()
