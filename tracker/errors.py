"""Domain errors raised by services; HTML views and the JSON API turn them into answers."""


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    """Someone else changed the row first; ``current`` is what they left."""

    code = "conflict"
    status = 409

    def __init__(self, message, current_version: int, changes: list | None = None):
        super().__init__(message)
        self.current_version = current_version
        self.changes = changes or []
