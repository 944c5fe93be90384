import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import every view, serializer and model now, when the worker starts, rather than in the
# first request it serves (350-430 ms for a check-in), then leave what start-up made out of
# the garbage collector's full passes: one took 130 ms in the middle of a check-in.
get_resolver().url_patterns  # noqa: B018
gc.freeze()
