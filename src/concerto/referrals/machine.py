"""The referral lifecycle as data: which moves are allowed from which state.

received → triaged → accepted → assessed → in support/treatment → completed; from any open state a
referral may instead be redirected (with a destination and a hand-over note; the onward referral
keeps the first clock), declined by the patient, or withdrawn. There is no "rejected".
"""

from concerto.referrals.models import OPEN_STATUSES, Status

EXITS = {Status.REDIRECTED, Status.DECLINED_BY_PATIENT, Status.WITHDRAWN}

TRANSITIONS: dict[str, set[str]] = {
    Status.RECEIVED: {Status.TRIAGED, Status.ACCEPTED} | EXITS,
    Status.TRIAGED: {Status.ACCEPTED} | EXITS,
    Status.ACCEPTED: {Status.ASSESSED} | EXITS,
    Status.ASSESSED: {Status.IN_TREATMENT} | EXITS,
    Status.IN_TREATMENT: {Status.COMPLETED} | EXITS,
    Status.COMPLETED: set(),
    Status.REDIRECTED: set(),
    Status.DECLINED_BY_PATIENT: set(),
    Status.WITHDRAWN: set(),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, set())


def explain(from_status: str, to_status: str) -> str:
    allowed = ", ".join(sorted(Status(s).label.lower() for s in TRANSITIONS.get(from_status, set())))
    if not allowed:
        return f"This referral is {Status(from_status).label.lower()}: it cannot change any more."
    return (
        f"A referral that is {Status(from_status).label.lower()} cannot become "
        f"{Status(to_status).label.lower()}; it can become: {allowed}."
    )


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES
