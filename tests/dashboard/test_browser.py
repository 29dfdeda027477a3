"""The dashboard in a real browser (headless Chromium) over the real app and a built index.

An analyst's path: the page loads, the matrix shows numbers, a cell opens a pair from the
keyboard, the chart is drawn with its alert, a click on the chart lists that day's
sentences with both countries marked, grain / view / publisher country change the series,
the CSV holds what is on screen, Korean labels appear, a reload keeps the state, a narrow
screen has no sideways scroll, and the console stays clean. Screenshots go to
``$RELWATCH_TEST_ARTIFACTS/dashboard`` (or the test's tmp dir).
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.dashboard.conftest import ALERT_ONSET

pytestmark = pytest.mark.timeout(300)

FOCUS = "KOR,PRK,USA,CHN,JPN,RUS,IND"
SERIES_HEADER = [
    "date",
    "source",
    "target",
    "directed",
    "seen_from",
    "grain",
    "tone",
    "tone_raw",
    "ci_low",
    "ci_high",
    "volume",
    "articles",
    "sources",
    "attention",
    "n_conflict",
    "n_neutral",
    "n_cooperation",
    "tone_smooth7",
    "model",
]


def _signed(value: float) -> str:
    text = f"{abs(value):.2f}"
    return text if float(text) == 0 else ("−" if value < 0 else "+") + text


class Console:
    """Everything the page reports as an error: console errors, uncaught exceptions,
    failed requests and 4xx/5xx answers (a request the page cancels itself, because a newer
    one replaced it, is not an error)."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.attach(page)

    def attach(self, page) -> None:
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"),
        )

    def _failed(self, request) -> None:
        if "ERR_ABORTED" not in (request.failure or ""):
            self.errors.append(f"failed: {request.url} {request.failure}")


def _state(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _ready(page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)


def _shot(page, artifacts: Path, name: str, full: bool = True) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=full)


def test_analyst_path_through_the_dashboard(browser, server, artifacts):
    from playwright.sync_api import expect

    api = server.base + "/v1"
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    console = Console(page)

    started = time.perf_counter()
    page.goto(server.base + "/")
    _ready(page)
    load_s = time.perf_counter() - started
    print(f"dashboard ready in {load_s:.2f} s")
    assert load_s < 5, f"dashboard took {load_s:.1f} s to load"
    _shot(page, artifacts, "01-start")

    # the matrix: focus countries with numbers (not colour alone), the extra pair aside
    matrix = page.request.get(f"{api}/index/matrix?countries={FOCUS}&window=30&extra=true").json()
    cells = {frozenset((c["source"], c["target"])): c for c in matrix["cells"]}
    kor_jpn = cells[frozenset(("KOR", "JPN"))]
    cell = page.locator('table.matrix button.cell[data-pair="KOR-JPN"]')
    expect(cell).to_contain_text(_signed(kor_jpn["tone"]))
    expect(cell).to_have_attribute("aria-label", re.compile("South Korea and Japan"))
    expect(page.locator('.chips button[data-pair*="CAN"]')).to_have_count(1)
    expect(page.locator(".legend")).to_contain_text("Conflict")
    expect(page.locator("#meta-model")).to_contain_text("relwatch-relation@1")

    # keyboard: focus the cell, Enter opens the pair
    cell.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('pair=KOR-JPN')")
    series = page.request.get(f"{api}/index?pair=KOR-JPN&grain=day&directed=false").json()
    assert len(series["points"]) == 75
    expect(page.locator("#points tbody tr")).to_have_count(len(series["points"]))
    expect(page.locator("#chart canvas").first).to_be_visible()
    expect(page.locator("#pair-name")).to_have_text("South Korea – Japan")
    marks = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart'))"
        ".getOption().series.find(s => s.id === 'alerts').data.length"
    )
    assert marks >= 1, "the KOR–JPN alert is marked on the chart"

    # the recent alerts list names the pair
    alerts = page.request.get(f"{api}/index/alerts?limit=15").json()["alerts"]
    assert alerts
    expect(page.locator("#alerts button.alert")).to_have_count(len(alerts))
    alert = next(a for a in alerts if {a["source"], a["target"]} == {"KOR", "JPN"})
    assert alert["day"] >= ALERT_ONSET.isoformat()

    # a click on the chart at the alert's day lists that day's sentences
    box = page.locator("#chart").bounding_box()
    x, y = page.evaluate(
        """(day) => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart'));
          const [yy, mm, dd] = day.split('-').map(Number);
          return chart.convertToPixel({gridIndex: 0}, [Date.UTC(yy, mm - 1, dd), 0]);
        }""",
        alert["day"],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function(f"() => location.search.includes('day={alert['day']}')")
    items = page.locator("#evidence li.evidence-item")
    expect(items.first).to_be_visible()
    evidence = page.request.get(
        f"{api}/index/evidence?pair=KOR-JPN&date={alert['day']}&directed=false&limit=20"
    ).json()["items"]
    expect(items).to_have_count(len(evidence))
    first = items.first
    mentions = {first.locator(f"mark.m-{role}").inner_text() for role in ("source", "target")}
    assert mentions == {"South Korea", "Japan"}
    expect(first.locator(".probs-list dd")).to_have_count(3)
    expect(first.locator(".ev-meta")).to_contain_text("Model version: 1")
    expect(first.locator(".ev-meta a")).to_have_attribute("href", re.compile(r"^https://news\."))
    expect(first.locator(".label-chip")).to_have_text("Conflict")  # the day turned to conflict
    expect(page.locator("#points tr.is-selected")).to_contain_text(alert["day"])
    _shot(page, artifacts, "02-evidence")

    # the chart from the keyboard: ← then Enter opens the day before
    page.locator("#chart").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    before = series["points"][[p["date"] for p in series["points"]].index(alert["day"]) - 1]
    page.wait_for_function(f"() => location.search.includes('day={before['date']}')")
    expect(page.locator("#evidence-for")).to_contain_text(before["date"])

    # a day in the table, from the keyboard
    day_button = page.locator(f'#points button.day[data-date="{alert["day"]}"]')
    day_button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.search.includes('day={alert['day']}')")

    # grain, directed view and publisher country change the series (and the URL)
    page.locator("label:has(input[name=grain][value=week])").click()
    page.wait_for_function("() => location.search.includes('grain=week')")
    weekly = page.request.get(f"{api}/index?pair=KOR-JPN&grain=week&directed=false").json()
    expect(page.locator("#points tbody tr")).to_have_count(len(weekly["points"]))
    expect(items.first).to_be_visible()  # the week holding the day keeps its evidence
    page.locator("label:has(input[name=directed][value='1'])").click()
    page.wait_for_function("() => location.search.includes('directed=1')")
    expect(page.locator("#pair-name")).to_have_text("South Korea → Japan")
    directed = page.request.get(f"{api}/index?pair=KOR-JPN&grain=week&directed=true").json()
    expect(page.locator("#points tbody tr")).to_have_count(len(directed["points"]))
    page.select_option("#seen", "KOR")
    page.wait_for_function("() => location.search.includes('seen_from=KOR')")
    seen = page.request.get(
        f"{api}/index?pair=KOR-JPN&grain=week&directed=true&seen_from=KOR"
    ).json()
    assert seen["points"], "KOR publishers wrote about KOR-JPN"
    expect(page.locator("#points tbody tr")).to_have_count(len(seen["points"]))

    # the CSV holds the points on screen
    with page.expect_download() as download:
        page.click("#series-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == SERIES_HEADER
    assert [r[0] for r in rows[1:]] == [p["date"] for p in seen["points"]]
    assert {r[4] for r in rows[1:]} == {"KOR"} and {r[5] for r in rows[1:]} == {"week"}

    # Korean
    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("#evidence-title")).to_have_text("근거 문장")
    expect(page.locator("#alerts-title")).to_have_text("최근 경보")
    expect(page.locator("#pair-title")).to_contain_text("관계 지수")
    expect(page.locator("#pair-name")).to_have_text("한국 → 일본")
    expect(page.locator("table.matrix thead")).to_contain_text("북한")
    expect(page.locator(".legend")).to_contain_text("갈등")
    expect(items.first.locator(".label-chip")).to_have_text(re.compile("갈등|중립|협력"))
    assert _state(page)["lang"] == "ko"
    _shot(page, artifacts, "03-korean")

    # a reload (or a shared link) shows the same screen
    state = _state(page)
    assert state == {
        "pair": "KOR-JPN",
        "grain": "week",
        "directed": "1",
        "seen_from": "KOR",
        "day": state["day"],
        "lang": "ko",
    }
    shared = page.url
    fresh = context.new_page()
    console.attach(fresh)
    fresh.goto(shared)
    _ready(fresh)
    expect(fresh.locator("#evidence li.evidence-item").first).to_be_visible()
    expect(fresh.locator("#evidence-title")).to_have_text("근거 문장")
    assert fresh.locator("input[name=grain][value=week]").is_checked()
    assert fresh.locator("input[name=directed][value='1']").is_checked()
    assert fresh.locator("#seen").input_value() == "KOR"
    assert _state(fresh) == state

    # narrow screen: one column, nothing wider than the screen
    fresh.set_viewport_size({"width": 390, "height": 844})
    fresh.wait_for_timeout(300)
    overflow = fresh.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 391, f"page is {overflow}px wide on a 390px screen"
    _shot(fresh, artifacts, "04-narrow")

    assert console.errors == []
    context.close()


def test_api_errors_are_shown_to_the_user(browser, server, artifacts):
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(server.base + "/?pair=KOR-ZZZ&lang=en")
    _ready(page)
    answer = page.request.get(f"{server.base}/v1/index?pair=KOR-ZZZ")
    assert 400 <= answer.status < 500
    message = answer.json()["error"]["message"]
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error-text")).to_contain_text(message)
    expect(page.locator("#chart-empty")).to_contain_text(message)
    _shot(page, artifacts, "05-error", full=False)
    page.click("#error-close")
    expect(page.locator("#error")).to_be_hidden()
