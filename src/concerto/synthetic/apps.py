from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    name = "concerto.synthetic"
    label = "synthetic"
    verbose_name = "Synthetic population"
