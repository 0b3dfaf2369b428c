"""Domain errors. Actions raise these; views turn them into messages a person can act on."""


class ConcertoError(Exception):
    """Base for errors that carry a message safe to show to the user."""


class InvalidInput(ConcertoError):
    pass


class NotPermitted(ConcertoError):
    """The actor may not do this. Views answer 404 for patient data (no existence oracle)."""
