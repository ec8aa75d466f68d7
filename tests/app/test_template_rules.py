"""Templates show what the rules decide; they do not re-decide it from roles or item statuses."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# ``current_user.role in ('admin', …)``, ``user.role == 'admin'``, ``item.status in ('open', …)``:
# ask permissions (may_create_items, can_administer …) or the item (is_open, is_finished, is_overdue).
RE_ENCODED = re.compile(r"\.role\s*(==|!=|in\b|not\s+in\b)|\bitem\.status\s*(==|!=|in\b|not\s+in\b)")


def test_no_template_tests_a_role_or_an_item_status_itself():
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()[:120]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RE_ENCODED.search(line)
    ]
    assert found == []


def test_the_check_sees_a_role_list():
    assert RE_ENCODED.search("{% if current_user.role in ('admin', 'committee') %}")
    assert RE_ENCODED.search("{% if item.status not in ('closed', 'cancelled') %}")
    assert not RE_ENCODED.search("{% if may_create_items(current_user) %}")
