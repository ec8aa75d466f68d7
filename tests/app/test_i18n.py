"""Both languages are complete, every visible word is in the catalog, and the language choice is honoured.

To refresh the catalogs after adding text (English msgids, Chinese default):
    .venv/bin/pybabel extract -F babel.cfg -k _l -o /tmp/messages.pot .
    .venv/bin/pybabel update -i /tmp/messages.pot -d tracker/translations --no-fuzzy-matching --ignore-obsolete
then translate the new zh_CN entries and copy each msgid into the en catalog's msgstr.
and compile them (the .mo files are committed): .venv/bin/python -m tracker.i18n
"""

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale

from tests.factories import login
from tracker.auth.models import User
from tracker.event.models import Event
from tracker.extensions import db
from tracker.i18n import RECOMPILE, TRANSLATIONS, stale_catalogs

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("zh_CN", "en")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}


def _catalog(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def _message_key(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = _message_key(message)
        if key:
            found.add(key)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_no_untranslated_or_fuzzy_message(locale):
    catalog = _catalog(locale)
    assert not catalog.fuzzy, f"{locale}: the catalog header is marked fuzzy"
    gaps = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            gaps.append(_message_key(message.id))
    assert not gaps, f"{locale}: {len(gaps)} untranslated or fuzzy: {gaps[:20]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_placeholders_match(locale):
    problems = [f"{_message_key(m.id)!r}: {errors}" for m, errors in _catalog(locale).check()]
    assert not problems, "\n".join(problems)


def test_english_catalog_repeats_the_msgid():
    wrong = [m.id for m in _catalog("en") if m.id and m.string != m.id]
    assert not wrong, f"en msgstr differs from msgid: {wrong[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_extracted_message_is_in_the_catalog(extracted, locale):
    known = {_message_key(m.id) for m in _catalog(locale) if m.id}
    missing = sorted(extracted - known)
    assert not missing, (
        f"{len(missing)} messages are not in the {locale} catalog (extract and update, see this module's docstring): "
        f"{missing[:20]}"
    )


# --- Templates: no visible text outside the catalog -------------------------------------------

VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-description", "aria-roledescription"}
# Tokens that read the same in both languages.
ALLOWED_TOKENS = {"KB", "MB", "T", "PDF", "JSON", "API", "URL", "Wallchart"}
# Blocks that fill attributes (``{% block body_class %}``) hold class names, not text.
ATTRIBUTE_BLOCKS = re.compile(r"\{%-?\s*block\s+\w*class\w*\s*-?%\}.*?\{%-?\s*endblock\b.*?%\}", re.S)
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
CODE_TAGS = {"code", "kbd", "samp", "script", "style"}
WORD = re.compile(r"[A-Za-z]+|[\u3400-\u9fff]+")


class _VisibleText(HTMLParser):
    """Collects text a person sees or hears.

    Skipped: scripts, styles, code samples (``<code>``, ``<kbd>``, ``<samp>``) and elements with their
    own ``lang``, whose text is deliberately in that language (a language's own name, a Chinese term of art).
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.skip_stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in CODE_TAGS or "lang" in attrs:
            if tag not in {"html", "meta", "br", "img", "input", "link"}:
                self.skip_stack.append(tag)
            return
        if self.skip_stack:
            return
        for name, value in attrs.items():
            if value and (
                name in VISIBLE_ATTRIBUTES
                or (name == "value" and tag == "input" and attrs.get("type") in {"submit", "button", "reset"})
            ):
                self.words.extend(WORD.findall(value))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.skip_stack and self.skip_stack[-1] == tag:
            self.skip_stack.pop()

    def handle_endtag(self, tag):
        if self.skip_stack and self.skip_stack[-1] == tag:
            self.skip_stack.pop()

    def handle_data(self, data):
        if not self.skip_stack:
            self.words.extend(WORD.findall(data))


def visible_words(source: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(JINJA.sub(" ", ATTRIBUTE_BLOCKS.sub(" ", source)))
    parser.close()
    return [word for word in parser.words if word not in ALLOWED_TOKENS]


def test_text_checker_finds_bare_words():
    assert visible_words('<p>{{ _("Saved") }} Done</p><img alt="A cat" src="x">') == ["Done", "A", "cat"]
    assert visible_words('<span lang="zh-CN">问题清单</span>{# note #}<script>var x;</script>') == []
    assert visible_words("{% block body_class %}board-page{% endblock %}<code>openapi.json</code>") == []


TEMPLATES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_has_no_text_outside_the_catalog(template):
    words = visible_words((ROOT / template).read_text(encoding="utf-8"))
    assert not words, f"{template}: visible text outside _(): {words[:15]}"


# --- Language choice: saved choice, else Accept-Language, else the event default ---------------


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def _set_event_locale(app, locale):
    with app.app_context():
        db.session.execute(db.update(Event).values(default_locale=locale))
        db.session.commit()


def test_chinese_is_the_default(client, world):
    assert _lang(client.get("/login")) == "zh-CN"


def test_accept_language_english_is_honoured(client, world):
    response = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _lang(response) == "en" and "Sign in" in response.get_data(as_text=True)


def test_accept_language_chinese_beats_an_english_event_default(app, client, world):
    _set_event_locale(app, "en")
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})) == "zh-CN"


def test_event_default_applies_without_accept_language(app, client, world):
    _set_event_locale(app, "en")
    assert _lang(client.get("/login")) == "en"


def test_unknown_accept_language_falls_back_to_the_event_default(app, client, world):
    _set_event_locale(app, "en")
    assert _lang(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})) == "en"


def test_saved_choice_beats_accept_language(app, client, world):
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "member").values(locale="en"))
        db.session.commit()
    login(client, "member")
    assert _lang(client.get("/", headers={"Accept-Language": "zh-CN"})) == "en"


def test_switcher_saves_the_choice_on_the_account(app, client, world):
    login(client, "member")
    response = client.post("/language", data={"language": "en", "next": "/problems"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/problems")
    with app.app_context():
        assert db.session.scalar(db.select(User.locale).where(User.username == "member")) == "en"
    # A new session on another device: the saved choice still wins.
    other = app.test_client()
    login(other, "member")
    assert _lang(other.get("/", headers={"Accept-Language": "zh-CN"})) == "en"


def test_switcher_works_before_signing_in(client, world):
    client.post("/language", data={"language": "en"})
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-CN"})) == "en"


def test_switcher_is_on_every_page_with_its_label(client, world):
    login(client, "member")
    for path in ("/", "/problems", "/accessibility"):
        page = client.get(path).get_data(as_text=True)
        assert '<label for="lang-select">' in page and 'name="language"' in page, path


def test_accessibility_statement_is_public_and_linked_from_the_footer(client, world):
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/accessibility"' in page
    statement = client.get("/accessibility", headers={"Accept-Language": "en"})
    assert statement.status_code == 200
    text = statement.get_data(as_text=True)
    assert "What we test" in text and "What does not work well yet" in text
    assert "无障碍声明" in client.get("/accessibility").get_data(as_text=True)


# --- Dates and numbers per language ----------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("zh-CN", "2026年6月30日"), ("en", "30 Jun 2026")],
)
def test_dates_follow_the_language(app, accept, expected):
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        assert app.jinja_env.filters["day"](date(2026, 6, 30)) == expected


def test_item_page_shows_the_deadline_in_the_reader_language(client, world):
    login(client, "member")
    path = f"/items/{world.items['owned'].id}"
    assert "2026年6月30日" in client.get(path).get_data(as_text=True)
    client.post("/language", data={"language": "en"})
    assert "30 Jun 2026" in client.get(path).get_data(as_text=True)


def test_times_are_shown_in_the_event_time_zone(app):
    from datetime import UTC, datetime

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.preprocess_request()
        shown = app.jinja_env.filters["moment"](datetime(2026, 9, 18, 12, 0, tzinfo=UTC))
    assert shown == "18 Sep 2026, 20:00"  # Maoming time, one readable format


def test_compiled_catalogs_match_their_sources():
    """The .mo files are committed so every way of starting the app speaks Chinese."""
    stale = stale_catalogs()
    assert not stale, (
        f"{', '.join(stale)} out of date with the .po files: run `{RECOMPILE}` "
        "from the checkout (e.g. `.venv/bin/python -m tracker.i18n`) and commit the .mo files"
    )


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_no_message_is_in_a_catalog_twice(locale):
    """Catalogs merge by union across branches; a message added twice would stop msgfmt."""
    text = (Path(__file__).parents[2] / f"tracker/translations/{locale}/LC_MESSAGES/messages.po").read_text()
    ids = [m for m in re.findall(r'^msgid ("(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)', text, re.M) if m != '""']
    twice = sorted({m for m in ids if ids.count(m) > 1})
    assert not twice, f"remove the later copy of: {twice[:5]}"


def test_template_strings_follow_a_language_forced_within_the_request(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        page = "{{ _('Language') }}"
        assert render_template_string(page) == "语言"
        with force_locale("en"):
            assert render_template_string(page) == "Language"
        assert render_template_string(page) == "语言"


def test_template_strings_escape_their_values(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        page = "{{ _('Filter') }}: {{ _('%(value)s', value=value) }}"
        assert render_template_string(page, value="<b>") == "Filter: &lt;b&gt;"
