from django.urls import path

from concerto.directory import views

app_name = "directory"

urlpatterns = [
    path("directory/", views.search, name="search"),
    path("directory/export.json", views.export, name="export"),
    path("directory/programmes/", views.programmes, name="programmes"),
    path("directory/ours/", views.mine, name="mine"),
    path("directory/ours/new/", views.edit, name="new"),
    path("directory/ours/import/", views.import_file, name="import"),
    path("directory/ours/<str:oruk_id>/edit/", views.edit, name="edit"),
    path("directory/services/<str:oruk_id>/", views.service, name="service"),
    path("social-prescribing/caseload/", views.caseload, name="caseload"),
    path("social-prescribing/incoming/", views.incoming, name="incoming"),
    path("patients/<uuid:patient_id>/social-prescribing/", views.patient, name="patient"),
    path("patients/<uuid:patient_id>/social-prescribing/find/", views.search_for_patient, name="patient-search"),
    path(
        "patients/<uuid:patient_id>/social-prescribing/services/<str:oruk_id>/refer/",
        views.prescribe,
        name="prescribe",
    ),
    path(
        "patients/<uuid:patient_id>/social-prescribing/<int:prescription_id>/<slug:step>/",
        views.act,
        name="act",
    ),
]
