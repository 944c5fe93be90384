# One image for every process: web (gunicorn), worker and beat (celery), migrate.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/var/lib/kneerocks

WORKDIR /app
# Dependencies first, so code changes do not reinstall them; hashes pin every file.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

COPY . .
# Settings refuse to load with DEBUG off and no secrets; these placeholders exist only for
# this build step and are not kept in the image's environment.
RUN DEBUG=0 SECRET_KEY=collectstatic-only ALLOWED_HOSTS=build \
        EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend \
        python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app kneerocks \
    && mkdir -p "$VAR_DIR" && chown -R kneerocks "$VAR_DIR"

USER kneerocks
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
