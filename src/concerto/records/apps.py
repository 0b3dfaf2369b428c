from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "concerto.records"
    label = "records"
    verbose_name = "Coded clinical records"
