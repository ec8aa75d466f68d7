"""axe-core, vendored under tests/browser/vendor/axe (never served by the app), run inside the page under test."""

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe" / "axe.min.js"
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


# WCAG 1.4.11: a control must stand out 3:1 from what surrounds it, by its border or its own
# background. Text-only controls (no border, no background) are left to the text contrast
# rules; native check boxes and radio buttons, and disabled controls, are exempt.
NON_TEXT_CONTRAST = """() => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (x, y) => {
    const [a, b] = [lum(x), lum(y)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reverse().reduce((under, top) => over(top, under), { r: 255, g: 255, b: 255, a: 1 });
  };
  const selector = [
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])", "select", "textarea", "button", "a.button",
  ].join(", ");
  const problems = [];
  for (const el of document.querySelectorAll(selector)) {
    const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (el.disabled || s.visibility === "hidden" || box.width === 0 || box.height === 0) continue;
    const outside = backdrop(el.parentElement);
    const background = parse(s.backgroundColor);
    const sides = ["Top", "Right", "Bottom", "Left"].filter(
      (side) => parseFloat(s[`border${side}Width`]) > 0 && s[`border${side}Style`] !== "none"
    );
    if (!sides.length && (!background || background.a === 0)) continue;  // text only
    const own = background ? over(background, outside) : outside;
    const best = Math.max(
      ratio(own, outside),
      ...sides.map((side) => ratio(over(parse(s[`border${side}Color`]), outside), outside))
    );
    if (best < 3) {
      const kind = el.className ? "." + String(el.className).split(" ")[0] : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + kind;
      problems.push(`${name} "${(el.innerText || el.value || "").trim().slice(0, 30)}" ${best.toFixed(2)}:1`);
    }
  }
  return problems;
}"""


def low_contrast_controls(page) -> list[str]:
    """Controls on the page that do not stand out 3:1 from their surroundings."""
    return page.evaluate(NON_TEXT_CONTRAST)
