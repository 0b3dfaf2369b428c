"""Verified fakes of external services: each is checked against the real service by the same
contract tests (see docs/notifications.md), so the fake cannot drift from what it imitates."""
