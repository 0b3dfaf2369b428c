from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "concerto.outcomes"
    label = "outcomes"
    verbose_name = "Questionnaires and outcome measures"
