from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "concerto.people"
    label = "people"
