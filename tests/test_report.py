"""`modelreg report` opened in headless Chromium (Debian's chromium driven by Playwright): the rendered
DOM, no request leaving the page, hostile text staying text, and the layout at 1280 and 420 px.

Also the CLI and API around it: JSON, refusing a directory that is not a report, replacing one.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.report.site import MARKER
from tests.conftest import git

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = "<img src=x onerror=alert(1)></script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/install-test-servers installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def registry(repo: Path, cli, artifact) -> Path:
    """Three versions of `fraud` with metrics, promoted and rolled back; free text that is hostile."""
    for n, (auc, loss) in enumerate([(0.91, 0.31), (0.93, 0.27), (0.92, 0.29)], start=1):
        args = ["register", "fraud", artifact(content=f"w{n}".encode()), "--metric", f"auc={auc}"]
        args += ["--metric", f"loss={loss}", "--param", f"depth={n + 4}", "--description", f"v{n} {HOSTILE}"]
        args += ["--param", f"note={HOSTILE}"]
        assert cli(*args).code == 0
    assert cli("register", "other", artifact(content=b"other")).code == 0
    assert cli("promote", "fraud", "1", "production", "--reason", "first").code == 0
    assert cli("promote", "fraud", "2", "staging").code == 0
    assert cli("promote", "fraud", "2", "production", "--reason", HOSTILE).code == 0
    assert cli("alias", "set", "fraud", "champion", "3").code == 0
    assert cli("rollback", "fraud", "--reason", "latency").code == 0  # production back to v1
    return repo


class Page:
    """A page of the report in a fresh browser context; every request that is not a report file fails the test."""

    def __init__(self, browser: Any, site: Path, width: int) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
        self.page = self.context.new_page()
        self.site = site.resolve().as_uri() + "/"
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.site) and url.split("#")[0].endswith(".html"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, rel: str) -> Any:
        self.page.goto(self.site + rel)
        return self.page

    def close(self) -> None:
        assert self.outside == [], f"requests left the page: {self.outside}"
        assert self.dialogs == []
        self.context.close()


def report(repo: Path, cli) -> Path:
    result = cli("report", "-o", repo.parent / "site", "--json")
    assert result.code == 0, result.err
    facts = json.loads(result.out)
    assert facts["pages"] == ["index.html", "models/fraud.html", "models/other.html"]
    return Path(facts["path"])


def texts(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_the_model_page_in_chromium(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("models/fraud.html")
    spans = page.locator("li.span-entry")
    got = [(s.get_attribute("data-target"), s.get_attribute("data-version")) for s in spans.all()]
    assert got == [("staging", "2"), ("production", "1"), ("production", "2"), ("production", "1"), ("champion", "3")]
    assert page.locator("svg.timeline g.span").count() == len(got)
    charts = page.locator("svg.chart")
    assert [c.get_attribute("data-metric") for c in charts.all()] == ["auc", "loss"]
    for chart in charts.all():
        assert chart.locator("g.point.current").get_attribute("data-version") == "1"  # production now: v1
        assert [p.get_attribute("data-version") for p in chart.locator("g.point.held").all()] == ["2"]
        assert chart.locator("g.point").count() == 3
    rows = page.locator("table.versions tbody tr")
    assert [r.get_attribute("data-version") for r in rows.all()] == ["3", "2", "1"]
    assert "depth 7" in rows.first.inner_text()
    assert "sha256:" in rows.first.inner_text()
    history = Registry.open(registry).history("fraud")
    audit = page.locator("table.audit tbody tr")
    assert [r.get_attribute("data-tag") for r in audit.all()] == [e.tag for e in history]
    rollback = page.locator('table.audit tr[data-action="rollback"]')
    assert "latency" in rollback.inner_text() and "Jane Doe" in rollback.inner_text()
    view.close()


def test_hostile_text_stays_text(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("models/fraud.html")
    assert page.locator("img").count() == 0
    # The page's own script and its JSON data block only: none from the registry's text, none loaded.
    scripts = page.locator("script").all()
    assert [(x.get_attribute("type"), x.get_attribute("id")) for x in scripts] == [
        ("application/json", "report-data"),
        (None, None),
    ]
    assert page.locator("script[src]").count() == 0
    assert HOSTILE not in page.locator("script").nth(0).inner_html()  # `<` is escaped inside the data
    assert page.locator("[onerror]").count() == 0
    assert HOSTILE in page.locator("table.versions").inner_text()
    assert HOSTILE in page.locator("table.audit").inner_text()
    index = view.open("index.html")
    assert index.locator("img, script").count() == 0
    view.close()


def test_the_index_and_links(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("index.html")
    assert [r.get_attribute("data-model") for r in page.locator("table.models tbody tr").all()] == ["fraud", "other"]
    row = page.locator('tr[data-model="fraud"]')
    cells = texts(row, "td")
    assert cells[1:5] == ["v3", "3", "", "v1"]  # latest, versions, staging (v2 left it), production
    assert "auc 0.91" in cells[5]  # production metrics
    assert "champion → v3" in cells[6]
    assert "rolled back" in cells[7]
    row.locator("a.model").click()
    assert page.url.endswith("models/fraud.html")
    assert page.locator("h1").inner_text() == "fraud"
    view.close()


def test_a_retired_model_is_listed_apart_with_its_description(browser, registry: Path, cli) -> None:
    assert cli("describe", "other", "--description", f"old scorer {HOSTILE}", "--reason", "docs").code == 0
    assert cli("retire", "other", "--reason", "replaced by fraud").code == 0
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("index.html")
    assert [r.get_attribute("data-model") for r in page.locator("table.models tbody tr").all()] == ["fraud"]
    assert "other" in page.locator("table.retired").inner_text()
    model = view.open("models/other.html")
    assert model.locator("h1 .chip.retired").count() == 1
    assert f"old scorer {HOSTILE}" in model.locator("body").inner_text()
    assert model.locator("img, script").count() == 0
    assert "replaced by fraud" in model.locator("table.audit").inner_text()
    view.close()


@pytest.mark.parametrize("width", [1280, 420])
def test_readable_at_desktop_and_phone_widths(browser, registry: Path, cli, width: int) -> None:
    site = report(registry, cli)
    view = Page(browser, site, width)
    for rel in ("index.html", "models/fraud.html"):
        page = view.open(rel)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{rel} is {overflow}px wider than a {width}px window"
        font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 14
    page = view.open("models/fraud.html")
    chart = page.locator("svg.chart").first.bounding_box()
    assert chart is not None and 300 <= chart["width"] <= width
    view.close()


def test_a_directory_that_is_no_report_is_refused(registry: Path, cli) -> None:
    target = registry.parent / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = cli("report", "-o", target)
    assert result.code == 1 and "not empty" in result.err and "--force" in result.err
    assert (target / "notes.txt").read_text() == "keep me"
    assert cli("report", "-o", target, "--force").code == 0
    assert not (target / "notes.txt").exists() and (target / MARKER).is_file()


def test_a_report_replaces_the_previous_one(registry: Path, cli) -> None:
    target = registry.parent / "site"
    assert cli("report", "-o", target, "other").code == 0
    assert sorted(p.name for p in (target / "models").iterdir()) == ["other.html"]
    assert cli("report", "-o", target).code == 0
    assert sorted(p.name for p in (target / "models").iterdir()) == ["fraud.html", "other.html"]
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".site")] == []


def test_the_repository_itself_is_never_a_target(registry: Path, cli) -> None:
    for target in (registry, registry.parent, registry / ".git"):
        result = cli("report", "-o", target, "--force")
        assert result.code == 1 and "holds the repository" in result.err
    assert (registry / ".git").is_dir()


def test_an_unknown_model_is_an_error_and_writes_nothing(registry: Path, cli) -> None:
    result = cli("report", "-o", registry.parent / "site", "nope")
    assert result.code == 1 and "nope" in result.err
    assert not (registry.parent / "site").exists()


def test_the_api_matches_the_cli(registry: Path) -> None:
    result = Registry.open(registry).report(registry.parent / "api-site", ["fraud"])
    assert result.pages == ("index.html", "models/fraud.html")
    assert (result.models, result.versions) == (1, 3)
    assert result.events == len(Registry.open(registry).history("fraud"))
    shutil.rmtree(result.path)


def test_an_event_the_policy_leaves_out_never_shows_as_taking_effect(registry: Path, cli) -> None:
    """A production tag made by hand, without its claim ref: every read ignores it, and so does the report."""
    commit = git(registry, "rev-parse", "fraud@v3^{commit}").strip()
    payload = '{"modelreg": 1, "action": "assign", "kind": "stage", "target": "production", "version": 3}'
    git(registry, "tag", "-a", "fraud#production#6", commit, "-m", "sneak", "-m", payload)
    site = Registry.open(registry).report(registry.parent / "site").path
    page = (site / "models" / "fraud.html").read_text()
    assert "Left out by the policy of record: ignoring fraud#production#6" in page
    assert 'data-tag="fraud#production#6"' not in page
    assert 'data-target="production" data-version="3"' not in page
    assert re.search(r'<g class="point current" data-version="1">', page)


# --- issue 25: the axis, the ticks, sizes, the index's metrics, comparing and filtering -------------


def test_events_of_one_day_put_times_on_the_axis_and_chart_ticks_are_round(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("models/fraud.html")
    ticks = [t.strip() for t in page.locator("svg.timeline text.tick-label").all_text_contents()]  # SVG: no innerText
    assert ticks[0] == "2026-01-02 03:04"  # every event of the fixture is on one day: its time is shown
    assert all(re.fullmatch(r"(2026-01-02 )?03:04", t) for t in ticks) and len(ticks) == 3
    for chart in page.locator("svg.chart").all():
        labels = [t.strip() for t in chart.locator("text.y-label").all_text_contents()]
        values = [float(v) for v in labels]
        places = {len(v.partition(".")[2]) for v in labels}
        assert len(places) == 1, labels  # one format for every tick
        steps = {round(b - a, 9) for a, b in itertools.pairwise(values)}
        assert len(steps) == 1, labels
        (step,) = steps
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 6) in (1, 2, 5), labels
        assert all(abs(v / step - round(v / step)) < 1e-6 for v in values), labels
    view.close()


def test_sizes_are_in_kib_as_the_cli_says(registry: Path, cli, artifact) -> None:
    assert cli("register", "big", artifact("big.bin", b"x" * 2048)).code == 0
    site = Registry.open(registry).report(registry.parent / "site", ["big"]).path
    page = (site / "models" / "big.html").read_text()
    assert "2.0 KiB, 1 file" in page and " KB" not in page


def test_the_index_shows_the_production_metrics(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("index.html")
    assert "production metrics" in texts(page, "table.models th")
    cell = page.locator('tr[data-model="fraud"] td.metrics').inner_text()
    assert "auc 0.91" in cell and "loss 0.31" in cell  # production is v1 after the rollback
    assert page.locator('tr[data-model="other"] td.metrics').inner_text().strip() == ""
    view.close()


def test_comparing_two_versions_shows_metric_and_param_deltas(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("models/fraud.html")

    def rows() -> dict[str, list[str]]:
        found = {}
        for row in page.locator("#compare-out tbody tr").all():
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            found[cells[1]] = cells[2:]
        return found

    assert rows()["auc"] == ["0.93", "0.92", "-0.01"]  # v2 → v3 picked to start with
    page.select_option("#compare-a", "1")
    page.select_option("#compare-b", "3")
    got = rows()
    assert got["auc"] == ["0.91", "0.92", "+0.01"]
    assert got["loss"] == ["0.31", "0.29", "-0.02"]
    assert got["depth"] == ["5", "7", "+2"]
    assert got["note"] == [HOSTILE, HOSTILE, "="]  # free text compared as text, shown as text
    assert got["digest"][2] == "different bytes"
    assert page.locator("#compare-out img, #compare-out script").count() == 0
    view.close()


def test_the_version_table_filters_on_the_page(browser, registry: Path, cli) -> None:
    site = report(registry, cli)
    view = Page(browser, site, 1280)
    page = view.open("models/fraud.html")
    visible = "table.versions tbody tr:not([hidden])"
    assert page.locator(visible).count() == 3
    page.fill("#version-filter", "production")
    assert [r.get_attribute("data-version") for r in page.locator(visible).all()] == ["1"]
    assert page.locator("#version-count").inner_text() == "1 of 3 versions"
    page.fill("#version-filter", "depth 7")
    assert [r.get_attribute("data-version") for r in page.locator(visible).all()] == ["3"]
    page.fill("#version-filter", "")
    assert page.locator(visible).count() == 3
    view.close()
