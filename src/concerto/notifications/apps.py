from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "concerto.notifications"
    label = "notifications"
    verbose_name = "Notifications (letters, SMS, email)"
