from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "concerto.access"
    label = "access"
    verbose_name = "Access policy and audit"
