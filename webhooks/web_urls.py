from django.urls import path

from webhooks import web

urlpatterns = [
    path("", web.page, name="staff-webhooks"),
    path("add/", web.add, name="staff-webhook-add"),
    path("<int:pk>/", web.log, name="staff-webhook-log"),
    path("<int:pk>/toggle/", web.toggle, name="staff-webhook-toggle"),
    path("<int:pk>/delete/", web.delete, name="staff-webhook-delete"),
    path(
        "<int:pk>/deliveries/<int:delivery_id>/replay/",
        web.replay,
        name="staff-webhook-replay",
    ),
]
