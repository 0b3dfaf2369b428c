from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "concerto.portal"
    label = "portal"
    verbose_name = "Patient portal"
