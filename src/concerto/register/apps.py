from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "concerto.register"
    label = "register"
    verbose_name = "SMI register and physical health checks"
