from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "concerto.directory"
    label = "directory"
    verbose_name = "Community services directory and social prescribing"
