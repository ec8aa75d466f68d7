"""Request hygiene and the headers every page carries: CSP without inline scripts, no framing, no sniffing."""

from flask import Flask, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker.errors import ValidationFailed

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def add_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin keeps the Referer that CSRF checks need on HTTPS, and sends nothing elsewhere.
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated and request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def refuse_nul_characters() -> None:
    """No person types a NUL, and PostgreSQL cannot store or even compare one: refuse it in any
    query parameter, form field or upload name before a query runs (the API checks JSON bodies)."""
    names = [name for name, file in request.files.items(multi=True) if "\x00" in (file.filename or "")]
    for source in (request.args, request.form):
        names += [name for name, values in source.lists() if "\x00" in name or any("\x00" in v for v in values)]
    if names:
        message = _("Must not contain NUL characters.")
        raise ValidationFailed(message, fields={name.replace("\x00", "\\0"): message for name in names})


def init_security(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.after_request(add_headers)
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind a TLS-terminating proxy: trust its X-Forwarded-* (scheme, client address).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


class SecureCookiesOverHttps:
    """WSGI wrapper: over HTTPS every cookie (session, remember-me) is marked Secure.

    A wrapper rather than an after_request hook because Flask writes the session
    cookie after those hooks have run.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)
