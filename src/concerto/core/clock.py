"""One place to ask for 'now' and 'today', so tests and reports can fix the date."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate()
