from django.urls import path

from concerto.careplans import views
from concerto.careplans.models import Kind

app_name = "careplans"

# One set of pages per kind of plan: /patients/<id>/plans/care/… and /patients/<id>/plans/crisis/…
urlpatterns = []
for kind in Kind.values:
    base = f"patients/<uuid:patient_id>/plans/{kind}/"
    k = {"kind": kind}
    urlpatterns += [
        path(base, views.plan, k, name=kind),
        path(f"{base}edit/", views.edit, k, name=f"{kind}-edit"),
        path(f"{base}agree/", views.agree, k, name=f"{kind}-agree"),
        path(f"{base}versions/", views.versions, k, name=f"{kind}-versions"),
        path(f"{base}versions/<int:number>/", views.version, k, name=f"{kind}-version"),
        path(f"{base}compare/", views.compare, k, name=f"{kind}-compare"),
        path(f"{base}print/", views.print_pdf, k, name=f"{kind}-print"),
        path(f"{base}requests/<int:request_id>/resolve/", views.resolve_request, k, name=f"{kind}-resolve"),
    ]
