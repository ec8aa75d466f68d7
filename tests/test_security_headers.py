from tests.factories import login


def test_pages_carry_a_strict_csp_and_no_store(client, world):
    login(client, "lead")
    response = client.get("/problems")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_scripts_or_styles():
    import pathlib
    import re

    offenders = []
    for path in pathlib.Path("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\sstyle=\"", text) or "<style" in text:
            offenders.append(str(path))
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path) + " (event handler attribute)")
    assert offenders == []
