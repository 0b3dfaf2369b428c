from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "concerto.analytics"
    label = "analytics"
    verbose_name = "Population analytics"
