from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def number(value) -> str:
    """A measurement as a clinician writes it: 31.4, 120, 4.65 (no trailing zeros, no exponent)."""
    if value is None or value == "":
        return ""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)
