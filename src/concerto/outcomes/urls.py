from django.urls import path

from concerto.outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("outcomes/alerts/", views.alerts, name="alerts"),
    path("patients/<uuid:patient_id>/outcomes/", views.patient_outcomes, name="patient"),
    path("patients/<uuid:patient_id>/outcomes/record/<slug:key>/", views.record, name="record"),
    path("patients/<uuid:patient_id>/outcomes/responses/<int:response_id>/", views.response_detail, name="response"),
    path(
        "patients/<uuid:patient_id>/outcomes/alerts/<int:alert_id>/acknowledge/",
        views.acknowledge,
        name="acknowledge",
    ),
]
