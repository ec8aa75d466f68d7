"""Language and time zone at the edges: locale choice, date filters, catalogs."""

from collections.abc import Callable
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, get_translations, refresh
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from tracker.extensions import babel

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale(event_locale: Callable[[], str | None]) -> Locale:
    """The user's saved choice, else the browser's Accept-Language, else the event default."""
    return _parsed(_chosen(event_locale))


@cache
def _parsed(identifier: str) -> Locale:
    """Parsed once per process: Babel's parse of a name costs more than the rest of a cached page."""
    return Locale.parse(identifier)


def _chosen(event_locale: Callable[[], str | None]) -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and scheduler: the event's language
        return event_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    best = request.accept_languages.best_match(["zh", "zh_CN", "zh-CN", "en"])
    if best:
        return "en" if best.startswith("en") else "zh_CN"
    return event_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else "en"


def is_english() -> bool:
    return str(get_locale()).startswith("en")


# One readable format per language: "2 Dec 2026, 12:14" and "2026年12月2日 12:14", never "12/2/26".
DATE_PATTERNS = {"en": "d MMM y", "zh": "y年M月d日"}


def _language() -> str:
    return "en" if is_english() else "zh"


def readable_date(day) -> str:
    """A calendar day for people, in the current language (pages, exports, messages)."""
    return format_date(day, DATE_PATTERNS[_language()])


def readable_moment(moment: datetime) -> str:
    """A moment in the event's time zone, in the current language, 24-hour clock."""
    separator = ", " if _language() == "en" else " "
    return format_datetime(moment, DATE_PATTERNS[_language()] + f"'{separator}'HH:mm")


def init_babel(app: Flask, *, event_locale: Callable[[], str | None], event_timezone: Callable) -> None:
    """Flask-Babel with the event's language as the last resort and its time zone for every date."""
    babel.init_app(app, locale_selector=lambda: select_locale(event_locale), timezone_selector=event_timezone)
    # Flask-Babel caches the locale on ``g``; a request inside a longer-lived app context
    # (a CLI command or a test's context) must still choose its own language.
    app.before_request(refresh)
    app.context_processor(render_gettext)
    app.jinja_env.filters["day"] = lambda d: readable_date(d) if d else ""
    app.jinja_env.filters["moment"] = lambda dt: readable_moment(dt) if isinstance(dt, datetime) else ""
    app.jinja_env.globals.update(
        _=template_gettext,
        html_lang=html_lang,
        is_english=is_english,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        get_locale=get_locale,
    )


def _gettext():
    """``_()`` in templates for the current language, made once per language in each app.

    Flask-Babel finds the catalog again for every string (domain, locale name, cache lookup),
    which with Jinja's generic call cost a page's forty strings about a millisecond.
    """
    locale = get_locale()  # follows ``refresh`` and ``force_locale``
    made = current_app.extensions.setdefault("template_gettext", {})
    gettext = made.get(locale)
    if gettext is None:
        gettext = made[locale] = _gettext_from(get_translations().ugettext)
    return gettext


def _gettext_from(lookup):
    """``_()`` over one catalog's lookup, as Jinja's new-style gettext does it, without its generic call."""

    @pass_eval_context
    def gettext(eval_context, string: str, **variables):
        translated = lookup(string)
        if not variables and "%" not in translated:
            return Markup(translated) if eval_context.autoescape else translated  # noqa: S704 - as below
        if eval_context.autoescape:
            translated = Markup(translated)  # noqa: S704 - our own catalog, trusted as Jinja's gettext trusts it
        return translated % variables

    return gettext


@pass_eval_context
def template_gettext(eval_context, string: str, **variables):
    """``_()`` in a template rendered without Flask's ``render_template``: the language is
    looked up on every call."""
    return _gettext()(eval_context, string, **variables)


def render_gettext() -> dict:
    """``_()`` for one render, its language looked up once (a page has forty strings)."""
    return {"_": _gettext()}


RECOMPILE = "python -m tracker.i18n"


def _catalog_paths() -> list[tuple[Path, Path]]:
    """Each .po source with the .mo Flask-Babel reads for it.

    Babel reads the folder name ``zh_CN`` as ``zh_Hans_CN``, so the Chinese catalog is
    compiled to ``zh_Hans_CN/LC_MESSAGES/messages.mo``.
    """
    pairs = []
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        folder = str(Locale.parse(po_path.parent.parent.name))
        pairs.append((po_path, TRANSLATIONS / folder / "LC_MESSAGES" / "messages.mo"))
    return pairs


def compile_catalogs() -> None:
    """Write the .mo files from the .po sources (``python -m tracker.i18n``).

    The compiled catalogs are committed, so the app speaks Chinese however it is started
    from a fresh checkout; run this after every change to a .po file.
    """
    for po_path, mo_path in _catalog_paths():
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        mo_path.write_bytes(_compiled(po_path))


def stale_catalogs() -> list[str]:
    """The .mo files that are missing or differ from what their .po compiles to."""
    return [
        str(mo_path.relative_to(TRANSLATIONS.parent.parent))
        for po_path, mo_path in _catalog_paths()
        if not mo_path.exists() or mo_path.read_bytes() != _compiled(po_path)
    ]


def _compiled(po_path: Path) -> bytes:
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


if __name__ == "__main__":
    compile_catalogs()
