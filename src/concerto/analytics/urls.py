from django.urls import path

from concerto.analytics import views

app_name = "analytics"

urlpatterns = [
    path("indicators/", views.overview, name="overview"),
    path("indicators/<slug:key>/", views.indicator, name="indicator"),
]
