"""The clinic team's web pages at /staff/: a second edge over the API's selectors and
services, rendered on the server (session sign-in, CSRF, no inline script)."""
