from django.contrib.auth import views as auth_views
from django.urls import path

from concerto.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("choose-membership/", views.choose_membership, name="choose-membership"),
    path("patients/", views.patient_search, name="patient-search"),
    path("patients/<uuid:patient_id>/", views.patient_summary, name="patient-summary"),
]
