from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhooks/", views.EndpointList.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>/", views.EndpointDetail.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:pk>/deliveries/",
        views.DeliveryList.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/",
        views.DeliveryReplay.as_view(),
        name="webhook-delivery-replay",
    ),
]
