"""HTTPS and browser security: the content security policy, the headers and cookies, and
HTTPS in production (what `manage.py check --deploy` looks at). config/settings.py takes
these as they are, for the DEBUG it read."""

from config.env import env_bool, env_int

# Pages load scripts, styles, images and fonts from this site only; no inline script or
# style, no plug-ins, no framing, forms post here only. /api/docs/ (Swagger UI) loosens
# styles alone, on that view (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}


def security_settings(*, debug: bool) -> dict:
    """The settings of this concern, by name; a value it cannot read from the environment
    raises ImproperlyConfigured (through the config.env helpers)."""
    settings = {
        "CONTENT_SECURITY_POLICY": CONTENT_SECURITY_POLICY,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # A form refused for its missing or stale token gets the product's page (JSON
        # under /api/).
        "CSRF_FAILURE_VIEW": "clinic.errors.csrf_failure",
        # HTTPS only in production: plain HTTP is redirected and browsers are told (HSTS)
        # to never try it again. Both can be turned down from the environment, e.g. while a
        # first deployment tests its certificate (SECURE_HSTS_SECONDS=300), never silently.
        "SECURE_SSL_REDIRECT": env_bool("SECURE_SSL_REDIRECT", not debug),
        # A load balancer probes /healthz over plain HTTP inside its network.
        "SECURE_REDIRECT_EXEMPT": [r"^healthz/?$"],
        "SECURE_HSTS_SECONDS": env_int(
            "SECURE_HSTS_SECONDS", 0 if debug else 365 * 24 * 3600, minimum=0
        ),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not debug),
        "SECURE_HSTS_PRELOAD": env_bool("SECURE_HSTS_PRELOAD", not debug),
    }
    if not debug:
        settings |= {
            "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
            "SESSION_COOKIE_SECURE": True,
            "CSRF_COOKIE_SECURE": True,
        }
    return settings
