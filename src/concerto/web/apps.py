from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "concerto.web"
    label = "web"
    verbose_name = "Staff web shell"
