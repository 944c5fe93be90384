from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic.views import api_not_found, healthz
from outcomes import patient_web as outcomes_web
from prescriptions.patient_web import link_urlpatterns

api_v1 = [
    path("", include("clinic.api.urls")),
    path("", include("patients.api.urls")),
    path("", include("prescriptions.api.urls")),
    path("", include("outcomes.api.urls")),
    path("", include("webhooks.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

# Swagger UI's script comes in a file of its own (the split view), so scripts stay 'self';
# its page carries a <style> block and the bundle sets inline styles and data: images.
api_docs = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/docs/", api_docs, name="api-docs"),
    # After every API route; [\s\S], not `.`, so a path holding a newline is caught too.
    re_path(r"^api/(?P<rest>[\s\S]*)$", api_not_found),
    path("healthz", healthz, name="healthz"),
    path("healthz/", healthz),  # probes are configured both ways; both answer
    # The site's address opened in a browser is most likely someone of the clinic team.
    path("", RedirectView.as_view(pattern_name="staff-home")),
    # Accounts (every role): before the two areas below, whose paths they share.
    path("", include("clinic.web_urls")),
    # The clinic team's web page (session sign-in); the API is the product's main surface.
    path("staff/", include("prescriptions.staff_web.urls")),
    path("staff/", include("outcomes.web_urls")),
    path("staff/webhooks/", include("webhooks.web_urls")),
    path("admin/", admin.site.urls),
    # Opened without signing in: the signed value in the path is the key.
    path("", include(link_urlpatterns)),
    path("q/<str:token>/", outcomes_web.answer_from_link, name="questionnaire-link"),
    # Before the rest of the patient's pages, whose prefix it shares.
    path(
        "my/questionnaires/<slug:slug>/",
        outcomes_web.answer,
        name="patient-questionnaire",
    ),
    # The patient's own page (session sign-in with email and password).
    path("my/", include("prescriptions.patient_web.urls")),
]

# Outside /api/, the product's own pages (JSON under /api/), never Django's built-in ones.
handler400 = "clinic.errors.bad_request"
handler403 = "clinic.errors.permission_denied"
handler404 = "clinic.errors.page_not_found"
handler500 = "clinic.errors.server_error"
