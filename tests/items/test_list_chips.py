"""The active filters above a list: one chip per filter, each a link to the list without it."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import login

pytestmark = pytest.mark.usefixtures("frozen_now")


@pytest.mark.parametrize("view", ["problems", "responsibilities", "ledger"])
def test_each_chip_drops_its_own_filter_and_keeps_the_rest(client, world, view):
    login(client, "committee")
    page = client.get(f"/{view}?q=<i>x</i>&status=active&overdue=1&sort=deadline").get_data(as_text=True)
    chips = re.findall(r'<a class="chip" href="([^"]+)">(.*?)<span class="chip-remove"', page)
    assert [label for _, label in chips] == ["搜索：&lt;i&gt;x&lt;/i&gt;", "状态：未销号", "仅看逾期"]
    kept = [set(parse_qs(urlsplit(href.replace("&amp;", "&")).query)) for href, _ in chips]
    assert kept == [{"status", "overdue", "sort"}, {"q", "overdue", "sort"}, {"q", "status", "sort"}]
    assert "<i>x</i>" not in page
    assert re.search(r"<summary[^>]*>筛选条件 \(3\)</summary>", page)


def test_no_filter_no_chips(client, world):
    login(client, "committee")
    page = client.get("/problems?sort=deadline").get_data(as_text=True)
    assert 'class="chip"' not in page
    assert re.search(r"<summary[^>]*>筛选条件</summary>", page)
