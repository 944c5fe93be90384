from django.urls import path

from prescriptions.api import views

urlpatterns = [
    path("protocols/", views.ProtocolList.as_view(), name="protocol-list"),
    path("protocols/<slug:slug>/", views.ProtocolDetail.as_view(), name="protocol-detail"),
    path("prescriptions/", views.PrescriptionList.as_view(), name="prescription-list"),
    path(
        "prescriptions/<int:pk>/",
        views.PrescriptionDetail.as_view(),
        name="prescription-detail",
    ),
    *[
        path(
            f"prescriptions/<int:pk>/{change}/",
            views.PrescriptionStatusChange.as_view(change=change),
            name=f"prescription-{change}",
        )
        for change in ("pause", "resume", "end")
    ],
    path("check-ins/", views.CheckInList.as_view(), name="checkin-list"),
    path("check-ins/<int:pk>/", views.CheckInDetail.as_view(), name="checkin-detail"),
]
