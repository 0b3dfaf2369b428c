from django.contrib.admin.apps import AdminConfig


class ConcertoAdminConfig(AdminConfig):
    default_site = "concerto.config.admin.ConcertoAdminSite"
