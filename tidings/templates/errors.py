"""What rendering a template can raise."""

from __future__ import annotations


class TemplateError(Exception):
    """A template that does not compile: Django's message and the line it points at."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class TemplateTooLarge(TemplateError):
    pass


class RenderError(Exception):
    """A render that failed: over one of its limits (`limit` names it), or a filter or tag failing."""

    def __init__(self, message: str, limit: str | None = None) -> None:
        super().__init__(message)
        self.limit = limit


class MessageSkipped(Exception):
    """The message must not be sent (e.g. a `{% catalog ... unpublished="cancel" %}` item is gone)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
