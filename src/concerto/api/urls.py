from django.urls import path, re_path

from concerto.api.fhir import views as fhir
from concerto.api.jsonapi import api

app_name = "api"

urlpatterns = [
    path("api/", api.urls),
    path("fhir/", fhir.base, name="fhir-base"),
    path("fhir/metadata", fhir.metadata, name="fhir-metadata"),
    path("fhir/Group/<str:group_id>/$export", fhir.group_export, name="fhir-group-export"),
    path("fhir/$export-status/<uuid:job_id>", fhir.export_status, name="fhir-export-status"),
    path("fhir/$export-file/<uuid:job_id>/<str:file_id>", fhir.export_file, name="fhir-export-file"),
    re_path(r"^fhir/(?P<resource_type>[A-Za-z]+)$", fhir.type_level, name="fhir-type"),
    re_path(
        r"^fhir/(?P<resource_type>[A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})$",
        fhir.instance,
        name="fhir-instance",
    ),
]
