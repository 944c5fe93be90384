"""One settings module, driven by environment variables (read by the typed helpers in
config/env.py); HTTPS and browser security come from config/security.py.

Every value has a safe development default so that a fresh clone runs with nothing
installed (SQLite, a filesystem Celery broker, local-memory cache). With DEBUG off, values
that must not fall back to a default raise ImproperlyConfigured at start-up.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.celery_settings import celery_settings
from config.env import (
    email_settings_from_url,
    env_bool,
    env_int,
    env_list,
    env_rate,
    env_required_in_production,
    env_str,
    env_zone,
    site_url,
)
from config.security import security_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

# --- Deployment -----------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
env_required_in_production(
    debug=DEBUG,
    names={
        "SECRET_KEY": "",
        "ALLOWED_HOSTS": " (the host names this site answers to)",
        "SITE_URL": " (the address patients open, e.g. https://clinic.example.com)",
    },
)
SECRET_KEY = env_str("SECRET_KEY", "development-only-secret-key-never-use-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where patients open the links in their reminders (check in, stop reminders): scheme and
# host as the patient's phone reaches them. Messages are built by the worker, which has no
# request to read the host from.
SITE_URL = site_url("SITE_URL", env_str("SITE_URL", f"http://127.0.0.1:{env_str('PORT', '8000')}"))
# Where the clinic's FHIR definitions live: the shipped questionnaires' canonical URLs in an
# exported bundle are {FHIR_CANONICAL_BASE}/Questionnaire/{slug} (outcomes/export.py).
FHIR_CANONICAL_BASE = env_str("FHIR_CANONICAL_BASE", f"{SITE_URL}/fhir").rstrip("/")
# No page or endpoint takes a file: a multipart upload is refused at its first file
# instead of being spooled to disk (Django's body limit leaves uploaded files out).
DATA_UPLOAD_MAX_NUMBER_FILES = 0

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "clinic",
    "patients",
    "prescriptions",
    "outcomes",
    "webhooks",
]

MIDDLEWARE = [
    # First: the request id covers every log line, and the audit trail every response.
    "clinic.audit.RequestAuditMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.EdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # With DEBUG on, the product's 404 page rather than Django's list of URL patterns.
    "clinic.middleware.NotFoundPageMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: a session that ended says so on the sign-in page.
    "clinic.sign_ins.SessionLimitsMiddleware",
    # A clinic that requires a second factor: its team sets one up before anything else.
    "clinic.second_factor_web.SecondFactorSetupMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # A file, not memory, so a live Celery worker in another process sees the
            # test data; one per test run so parallel runs do not clobber each other.
            "TEST": {"NAME": Path(tempfile.gettempdir()) / f"kneerocks-test-{os.getpid()}.sqlite3"},
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web workers, the Celery worker and beat write the same file at once (the default, or
    # a sqlite:// DATABASE_URL). WAL lets readers run beside the one writer; IMMEDIATE
    # takes the write lock when a transaction begins, so a transaction that read first
    # never fails on upgrading to a writer ("database is locked" at once, whatever the
    # timeout); the timeout (seconds) is how long a writer waits its turn. FULL, not
    # NORMAL: with NORMAL a commit acknowledged to a patient can vanish on a power cut.
    # journal_size_limit trims the WAL file back after a burst.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;"
        ),
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: the clinic report's one aggregate costs enough in the planner's estimate to be
    # compiled, and compiling it took 2-3 s where running it takes 0.2 s (EXPLAIN ANALYZE,
    # bench/clinic_adherence.py). Every query here is short; none gains from JIT.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "clinic.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time -----------------------------------------------------------------------------

USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True
# The clinic default: new clinics (and patients enrolled without a zone) start with it.
TIME_ZONE = env_zone("TIME_ZONE", "UTC")

# --- Static files ---------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Cache (throttling, sign-in lockout) ----------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kneerocks",
        }
    }
else:
    # On one machine without Redis, a folder every web process shares: the sign-in lockout
    # and the API's budgets hold as configured however many workers serve (in each
    # process's own memory, two workers would double every allowance).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Email, SMS, webhooks -------------------------------------------------------------

EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    # smtp://user:password@host:port, smtp+tls://… or smtp+ssl://…
    globals().update(email_settings_from_url(EMAIL_URL))
else:
    # In development every email lands as a file in var/mail, one file per message.
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
    if not DEBUG and EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        raise ImproperlyConfigured("Set EMAIL_URL or EMAIL_BACKEND when DEBUG is off")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Knee Rocks <reminders@kneerocks.local>")

# Dotted path of the SMS sender; see prescriptions/reminders/channels.py for the interface.
SMS_BACKEND = env_str("SMS_BACKEND", "prescriptions.reminders.channels.FileSMSBackend")
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH", str(VAR_DIR / "sms")))
# Text messages cost money and wake people up: at most this many reminders by SMS per
# patient and local date, whatever the prescriptions ask for (the rest are skipped).
SMS_DAILY_LIMIT_PER_PATIENT = env_int("SMS_DAILY_LIMIT_PER_PATIENT", 4, minimum=1)
# A delivery attempt holds its reminders this long (their lease): longer than a batch
# takes to send. A worker that dies leaves them to the tick's sweep once it runs out.
REMINDER_LEASE_SECONDS = env_int("REMINDER_LEASE_SECONDS", 5 * 60, minimum=1)
# A queued reminder no attempt has touched this long after it was created lost its
# message (a broker restarted without its data): the tick queues it again.
REMINDER_STRANDED_AFTER_SECONDS = env_int("REMINDER_STRANDED_AFTER_SECONDS", 10 * 60, minimum=1)

# Webhooks (the patients' reminders and the clinics' endpoints) refuse hosts that resolve
# to private, loopback or link-local addresses, which would let a URL reach internal
# services, and a clinic's endpoint must be https://. Development, the tests and the demo
# post to receivers on 127.0.0.1 (a closed network may have them on private addresses):
# there, WEBHOOKS_ALLOW_LOCAL=1 lifts both rules. WEBHOOK_ALLOW_PRIVATE_ADDRESSES is its
# older name, still read.
WEBHOOKS_ALLOW_LOCAL = env_bool(
    "WEBHOOKS_ALLOW_LOCAL", env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
)
# How long a worker holds the clinic webhook deliveries it claimed (their lease): longer
# than a batch takes to post. A worker that dies leaves them to the sweep once it runs out.
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 2 * 60, minimum=1)

# --- Celery (config/celery_settings.py) -----------------------------------------------

globals().update(celery_settings(VAR_DIR))

# --- API ------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["clinic.sign_ins.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "clinic.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["clinic.api.parsers.SafeJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "clinic.api.validation.StrictFormatNegotiation",
    # Every API user has a budget of requests, counted in the cache: in Redis when
    # REDIS_URL is set, so that every web process shares one count. Generous for people,
    # a brake on a runaway script or a stolen token.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_rate("USER_THROTTLE_RATE", "600/min"),
        "sign_in": env_rate("SIGN_IN_THROTTLE_RATE", "20/min"),
        "activate": env_rate("ACTIVATE_THROTTLE_RATE", "10/min"),
        # Per client address: each request may send an email, and the answers must not
        # become a way to test addresses by the thousand.
        "password_reset": env_rate("PASSWORD_RESET_THROTTLE_RATE", "10/hour"),
        "password_reset_confirm": env_rate("PASSWORD_RESET_CONFIRM_THROTTLE_RATE", "20/hour"),
        # Per user: a stolen session or token must not become a way to guess the password.
        "password_change": env_rate("PASSWORD_CHANGE_THROTTLE_RATE", "10/hour"),
    },
    # How many proxies in front of the app append to X-Forwarded-For (0: none, the client
    # connects directly). The client address — for throttles and the sign-in lockout — is
    # the entry the nearest trusted proxy wrote; a client can forge every other one.
    "NUM_PROXIES": env_int("TRUSTED_PROXIES", 0, minimum=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Knee Rocks Clinic API",
    "DESCRIPTION": (
        "Prescribe the knee-rocks home exercise for night-time low back pain, collect "
        "patients' check-ins, follow adherence and pain, act on alerts, and remind "
        "patients at their local times."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clinic.api.schema.add_error_responses",
    ],
    # Several models name different choice sets `slot`, `kind` or `status`; named here so
    # the schema's enums read well and stay stable when a field is added elsewhere.
    "ENUM_NAME_OVERRIDES": {
        "SlotKindEnum": "prescriptions.models.SlotKind",
        "CheckInSlotEnum": "prescriptions.models.CheckInSlot",
        "PrescriptionStatusEnum": "prescriptions.models.Prescription.Status",
        "ReminderStatusEnum": "prescriptions.models.Reminder.Status",
        "AlertKindEnum": "prescriptions.models.Alert.Kind",
        "RoleEnum": "clinic.models.User.Role",
        "TeamRoleEnum": "clinic.models.Invitation.Role",
    },
}

# --- Sign-in, sessions and tokens ----------------------------------------------------

# Failed sign-ins at one username from one address before that pair is locked out for the
# window after its last failure (answers 429). An address failing across many usernames is
# slowed down, never locked: behind a clinic's shared address, the others still sign in.
SIGN_IN_MAX_FAILURES = env_int("SIGN_IN_MAX_FAILURES", 5, minimum=1)
SIGN_IN_LOCKOUT_SECONDS = env_int("SIGN_IN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
# Failures from one address (any usernames) before each further try waits its turn, the
# wait doubling with each failure up to SIGN_IN_SLOWDOWN_MAX_SECONDS.
SIGN_IN_SLOWDOWN_AFTER = env_int("SIGN_IN_SLOWDOWN_AFTER", 20, minimum=1)
SIGN_IN_SLOWDOWN_MAX_SECONDS = env_int("SIGN_IN_SLOWDOWN_MAX_SECONDS", 30, minimum=1)
ACTIVATION_CODE_TTL = timedelta(days=env_int("ACTIVATION_CODE_TTL_DAYS", 14))
# What an authenticator app shows beside the username (clinic.second_factor).
OTP_TOTP_ISSUER = "Knee Rocks"

# A clinician's or staff member's web session ends after this long without a request, and
# this long after signing in whatever they do; their API tokens last CLINIC_TOKEN_TTL_HOURS.
# Patients keep longer ones (TOKEN_TTL_HOURS, Django's two-week session): they hold only
# their own data, on their own phone.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)
CLINIC_TOKEN_TTL_HOURS = env_int("CLINIC_TOKEN_TTL_HOURS", 12, minimum=1)
if CLINIC_TOKEN_TTL_HOURS > 12:
    raise ImproperlyConfigured("CLINIC_TOKEN_TTL_HOURS is at most 12 (health data)")
# A password-reset link works for one hour (and once: it is bound to the password it
# replaces); an invitation to join a clinic's team for three days.
PASSWORD_RESET_TIMEOUT = 60 * 60
# Reset emails to one address per hour, whoever asks from wherever: beyond it the answer
# stays the same and no email goes, so nobody's inbox can be flooded.
PASSWORD_RESET_EMAILS_PER_HOUR = env_int("PASSWORD_RESET_EMAILS_PER_HOUR", 5, minimum=1)
INVITATION_TTL = timedelta(hours=72)

KNOX_TOKEN_MODEL = "clinic.ApiToken"
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(hours=env_int("TOKEN_TTL_HOURS", 24 * 30)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

# --- HTTPS and browser security (config/security.py) ----------------------------------

globals().update(security_settings(debug=DEBUG))

# --- Logging --------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clinic.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
