from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("concerto.web.urls")),
    path("", include("concerto.register.urls")),
    path("", include("concerto.referrals.urls")),
]
