from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("concerto.web.urls")),
    path("", include("concerto.register.urls")),
    path("", include("concerto.referrals.urls")),
    path("", include("concerto.careplans.urls")),
    path("", include("concerto.outcomes.urls")),
    path("", include("concerto.directory.urls")),
    path("", include("concerto.portal.urls")),
    path("", include("concerto.analytics.urls")),
    path("", include("concerto.api.urls")),
]
