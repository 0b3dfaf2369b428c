from django.urls import path

from concerto.referrals import views

app_name = "referrals"

urlpatterns = [
    path("referrals/hub/", views.hub, name="hub"),
    path("referrals/waiting/", views.waiting, name="waiting"),
    path("referrals/caseload/", views.caseload, name="caseload"),
    path("patients/<uuid:patient_id>/refer/", views.refer, name="refer"),
    path("patients/<uuid:patient_id>/referrals/<int:referral_id>/", views.detail, name="detail"),
    path("patients/<uuid:patient_id>/referrals/<int:referral_id>/contact/", views.contact, name="contact"),
    path("patients/<uuid:patient_id>/referrals/<int:referral_id>/<slug:step>/", views.act, name="act"),
]
