from django.urls import path

from concerto.register import views

app_name = "register"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/recall/", views.recall, name="recall"),
    path("register/recall/invite/", views.bulk_invite, name="bulk-invite"),
    path("register/invitations/<int:batch_id>/", views.batch, name="batch"),
    path("register/invitations/<int:batch_id>/continue/", views.batch_continue, name="batch-continue"),
    path("register/indicators/", views.indicators, name="indicators"),
    path("register/case-finding/", views.case_finding, name="case-finding"),
    path("patients/<uuid:patient_id>/health-check/", views.record_check, name="record-check"),
    path("patients/<uuid:patient_id>/follow-up/", views.record_follow_up, name="follow-up"),
    path("patients/<uuid:patient_id>/care-adjustment/", views.record_care_adjustment, name="care-adjustment"),
    path("patients/<uuid:patient_id>/invite/", views.invite, name="invite"),
    path(
        "patients/<uuid:patient_id>/invitations/<int:invitation_id>/response/",
        views.invitation_response,
        name="invitation-response",
    ),
]
