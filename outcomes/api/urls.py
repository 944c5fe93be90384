from django.urls import path

from outcomes.api import schedules, views

urlpatterns = [
    path("questionnaires/", views.QuestionnaireList.as_view(), name="questionnaire-list"),
    path(
        "questionnaires/<slug:slug>/",
        views.QuestionnaireDetail.as_view(),
        name="questionnaire-detail",
    ),
    path(
        "questionnaire-responses/",
        views.QuestionnaireResponseList.as_view(),
        name="questionnaire-response-list",
    ),
    path(
        "questionnaire-responses/<int:pk>/",
        views.QuestionnaireResponseDetail.as_view(),
        name="questionnaire-response-detail",
    ),
    path(
        "patients/<int:pk>/outcomes/",
        views.PatientOutcomesView.as_view(),
        name="patient-outcomes",
    ),
    path("outcomes/", views.ClinicOutcomesView.as_view(), name="clinic-outcomes"),
    path(
        "prescriptions/<int:pk>/questionnaires/",
        schedules.PrescriptionQuestionnairesView.as_view(),
        name="prescription-questionnaires",
    ),
    path("me/questionnaires/", schedules.MyQuestionnairesView.as_view(), name="my-questionnaires"),
]
