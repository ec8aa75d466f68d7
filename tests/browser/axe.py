"""axe-core, vendored under static/vendor/axe, run inside the page under test."""

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_PATH = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe" / "axe.min.js"
BLOCKING = ("serious", "critical")
# WCAG 2.0/2.1 A and AA rules, plus axe's best practices (headings, landmarks, regions).
RUN_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}


def axe_violations(page) -> list[dict]:
    """Serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_PATH))
        assert page.evaluate("() => axe.version") == AXE_VERSION
    result = page.evaluate("options => axe.run(document, options)", RUN_OPTIONS)
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict], where: str) -> list[str]:
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"{where}: {v['id']} [{v['impact']}] {v['help']} — {targets}{more}")
    return lines


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it reflows)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
