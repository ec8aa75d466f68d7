"""Shared form plumbing: show a service's field errors next to the fields."""

from tracker.errors import ValidationFailed


def show_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        messages = [str(m) for m in (message if isinstance(message, list) else [message])]
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + messages
        else:
            form.form_errors.extend(messages)
    if not error.fields:
        form.form_errors.append(str(error.message))
