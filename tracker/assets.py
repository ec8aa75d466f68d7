"""Static files under content-versioned addresses: ``/static/css/app.css?v=<hash>``.

A changed file gets a new address, so nginx (deploy/nginx/wallchart.conf) and browsers may
keep a versioned file for a year; an unversioned request is revalidated as before.
"""

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, request, url_for

from tracker.extensions import kept

YEAR = 365 * 24 * 3600


def init_assets(app: Flask) -> None:
    root = Path(app.static_folder)

    @cache
    def version(filename: str) -> str | None:
        path = (root / filename).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    app.jinja_env.globals.update(address=address, asset=lambda filename: address("static", filename=filename))

    @app.url_defaults
    def versioned_static(endpoint, values):
        if endpoint == "static" and "v" not in values:
            tag = version(values.get("filename", ""))
            if tag:
                values["v"] = tag

    @app.after_request
    def cache_versioned(response):
        filename = (request.view_args or {}).get("filename", "")
        if request.endpoint == "static" and response.status_code == 200 and request.args.get("v") == version(filename):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response


def address(endpoint: str, **values) -> str:
    """``url_for`` for the fixed links of every page (header, menus, style sheets, scripts), built
    once per process and base path: a page has twenty, and ``url_for`` costs more than the rest
    of a link."""
    key = (endpoint, tuple(sorted(values.items())), request.script_root)
    return kept("addresses", key, lambda: url_for(endpoint, **values))
