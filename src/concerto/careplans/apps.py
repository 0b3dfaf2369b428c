from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "concerto.careplans"
    label = "careplans"
    verbose_name = "Care and support plans and crisis plans"
