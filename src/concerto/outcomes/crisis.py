"""What a patient is shown when an answer signals risk: where to get help now.

A site sets its own text (its crisis line, its hours) with `CONCERTO_CRISIS_TEXT`: paragraphs
separated by `|`. Without it, the national numbers below are shown; a blank setting never hides
them (hazard: crisis contacts wrong or missing).
"""

from django.conf import settings

DEFAULT_CRISIS_TEXT = (
    "If you need help now, you do not have to wait for your care team.",
    "Call NHS 111 and choose the mental health option (option 2), at any time of day or night, "
    "to speak to your local NHS mental health crisis service.",
    "If your life is at risk, or you have seriously hurt yourself, call 999 or go to A&E now.",
    "You can call Samaritans free on 116 123, at any time, to talk to someone.",
)


def crisis_text() -> tuple[str, ...]:
    configured = str(getattr(settings, "CRISIS_TEXT", "") or "")
    paragraphs = tuple(p.strip() for p in configured.split("|") if p.strip())
    return paragraphs or DEFAULT_CRISIS_TEXT
