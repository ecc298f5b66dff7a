"""The pages in a real browser (Debian's Chromium, driven by Playwright) against a real
`timebank serve` on a SQLite file: each role's work, in Chinese and in English, with an
accessibility check (axe-core) on every main page, and the README's screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.acceptance.server import ADMIN_TOKEN, serving
from tests.acceptance.test_trust_from_outside import Caller, ok
from web.i18n import gettext

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
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
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
# `make screenshots` sets it: the README's pictures are taken by this test, not by hand.
SCREENSHOTS = os.environ.get("TIMEBANK_SCREENSHOTS")
VOLUNTEERS = ("李秀英", "王建国", "张淑芬", "刘玉梅", "赵德明")


def _browser_missing() -> bool:
    return not Path(CHROMIUM).exists()


@dataclass
class Site:
    base: str
    tokens: dict[str, str]  # by name
    team: str


def _community(base: str, suffix: str) -> Site:
    """A day-care team with its coordinator, five volunteers, an auditor; tokens by name."""
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = Caller(client, ADMIN_TOKEN)
        founded = (date.today() - timedelta(days=60)).isoformat()
        team = ok(
            admin.post(
                "/teams",
                {"name": f"日间照料{suffix}", "community": "东城社区", "founded_on": founded},
            )
        )
        tokens: dict[str, str] = {}
        for name, roles in (
            ("陈主任", []),
            *((v, []) for v in VOLUNTEERS),
            ("街道审计", ["auditor"]),
        ):
            body = ok(admin.post("/members", {"name": f"{name}{suffix}", "roles": roles}))
            tokens[name] = body["token"]
            if name != "街道审计":
                role = "coordinator" if name == "陈主任" else "volunteer"
                membership = {"member_id": body["id"], "role": role, "effective_date": founded}
                ok(admin.post(f"/teams/{team['id']}/members", membership))
                ok(
                    Caller(client, body["token"]).post(
                        f"/teams/{team['id']}/members/{body['id']}/accept"
                    ),
                    200,
                )
    return Site(base, tokens, team["id"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _browser_missing():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    database = tmp_path_factory.mktemp("browser") / "timebank.db"
    with serving(f"sqlite:///{database}") as base:
        yield base


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def assert_accessible(page: Any) -> None:
    """axe-core in the page: no serious or critical violation."""
    page.evaluate(AXE)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"


def assert_fits_a_phone(page: Any) -> None:
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways at 360 px ({width})"
    assert size >= 18


def screenshot(page: Any, name: str) -> None:
    """The page at phone and desktop width, when screenshots are asked for."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(PHONE)


class Person:
    """One person's own browser (their own cookies), in one language."""

    def __init__(self, browser: Any, site: Site, name: str, language: str) -> None:
        self.context = browser.new_context(viewport=PHONE, bypass_csp=True)
        self.page = self.context.new_page()
        self.language = language
        self.base = site.base
        self.elsewhere: list[str] = []
        self.page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((site.base, "data:"))
                else self.elsewhere.append(request.url)
            ),
        )
        if language == "en":  # chosen once on the sign-in page, then remembered
            self.page.goto(f"{site.base}/signin")
            self.page.get_by_role("link", name="English").click()
        self.page.goto(f"{site.base}/card/{site.tokens[name]}")

    def _(self, message: str, **values: Any) -> str:
        text = gettext(self.language, message)
        return text % values if values else text

    def close(self) -> None:
        assert not self.elsewhere, f"fetched from another host: {self.elsewhere}"
        self.context.close()


def check(person: Person, name: str) -> None:
    """A main page: accessible, fits a phone, and pictured for the README (in Chinese)."""
    assert_accessible(person.page)
    assert_fits_a_phone(person.page)
    if person.language == "zh_Hans":
        screenshot(person.page, name)


def volunteers_log_their_service(browser: Any, site: Site, language: str) -> Person:
    """One volunteer logs a service on her phone; four others log theirs from their own."""
    li = Person(browser, site, "李秀英", language)
    _ = li._
    expect = sync_api.expect
    expect(li.page.get_by_role("heading", level=1)).to_contain_text(VOLUNTEERS[0])
    li.page.get_by_label(_("Activity")).fill("陪老人散步")
    li.page.get_by_label(_("Hours"), exact=True).first.fill("1")
    li.page.get_by_role("button", name=_("Log this service")).click()
    expect(li.page.get_by_role("status")).to_have_text(
        _("Your service is logged. A coordinator will review it.")
    )
    expect(li.page.locator('[data-test="pending"]')).to_have_text(_("%(hours)d h", hours=1))
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    with httpx.Client(base_url=site.base, timeout=30) as client:
        for name, minutes in zip(VOLUNTEERS[1:], (60, 90, 120, 45), strict=True):
            body = {
                "team_id": site.team,
                "service_date": yesterday,
                "minutes": minutes,
                "activity": "上门助餐",
            }
            ok(Caller(client, site.tokens[name]).post("/service-logs", body))
    return li


def coordinator_records_an_activity(browser: Any, site: Site, language: str) -> Person:
    """Five attendees ticked from the roster, two hours each."""
    chen = Person(browser, site, "陈主任", language)
    _ = chen._
    chen.page.get_by_role("link", name=_("Record an activity")).click()
    check(chen, "record-activity")
    form = chen.page.get_by_role("form", name=_("Record an activity"))
    form.get_by_label(_("Activity"), exact=True).fill("健康讲座")
    form.get_by_label(_("Place (optional)")).fill("社区活动室")
    for name in VOLUNTEERS:
        form.get_by_label(name, exact=False).check()
    form.get_by_role("button", name=_("Record the activity")).click()
    sync_api.expect(chen.page.get_by_role("status")).to_have_text(_("The activity is recorded."))
    return chen


def coordinator_works_the_queue(chen: Person) -> None:
    """The logs the volunteers made: three approved at once, one rejected, one in part."""
    _, page, expect = chen._, chen.page, sync_api.expect
    queue = page.locator('[data-test="log"]')
    expect(queue).to_have_count(5)
    check(chen, "review-queue")
    for name in VOLUNTEERS[:3]:
        queue.filter(has_text=name).get_by_role("checkbox").check()
    page.get_by_role("button", name=_("Approve the ticked logs")).click()
    expect(page.get_by_role("status")).to_have_text(_("The selected logs are approved."))
    expect(queue).to_have_count(2)
    rejected = queue.filter(has_text=VOLUNTEERS[3])
    rejected.get_by_text(_("Approve part or reject")).click()
    rejected.get_by_label(_("Reason")).fill("当天没有排班")
    rejected.get_by_role("button", name=_("Reject")).click()
    expect(page.get_by_role("status")).to_have_text(_("Rejected."))
    partial = queue.filter(has_text=VOLUNTEERS[4])
    partial.get_by_text(_("Approve part or reject")).click()
    partial.get_by_label(_("Minutes"), exact=True).fill("30")
    partial.get_by_label(_("Reason")).fill("提前离开")
    partial.get_by_role("button", name=_("Approve these minutes")).click()
    expect(page.get_by_role("status")).to_have_text(_("Approved in part."))
    expect(page.get_by_text(_("Nothing is waiting for review."))).to_be_visible()
    page.get_by_role("link", name=_("Honour wall")).click()
    expect(page.locator(".honour li").first).to_contain_text(VOLUNTEERS[2])
    check(chen, "honour-wall")


def a_volunteer_is_refused(li: Person) -> None:
    """Neither a coordinator's page nor a form posted without its token."""
    _, page, expect = li._, li.page, sync_api.expect
    page.goto(f"{li.base}/coordinator")
    expect(page.get_by_role("alert")).to_have_text(
        _("You may not do this. Ask a coordinator or an admin.")
    )
    page.goto(f"{li.base}/my")
    page.locator('form[action="/my/log"] input[name="csrf"]').evaluate("e => e.remove()")
    page.get_by_label(_("Activity")).fill("没有令牌的表单")
    page.get_by_role("button", name=_("Log this service")).click()
    expect(page.get_by_role("alert")).to_have_text(
        _("This form has expired or did not come from this site. Open the page again.")
    )


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_each_role_does_its_work_in_the_browser(browser: Any, server: str, language: str) -> None:
    expect = sync_api.expect
    site = _community(server, "" if language == "zh_Hans" else " (en)")
    li = volunteers_log_their_service(browser, site, language)
    chen = coordinator_records_an_activity(browser, site, language)
    coordinator_works_the_queue(chen)

    # The volunteer sees at once what was approved: 2 h of lecture + 1 h of her own walk;
    # the one whose log was rejected sees why.
    li.page.goto(f"{site.base}/my")  # as she opens it again later
    expect(li.page.locator('[data-test="earned"]')).to_have_text(li._("%(hours)d h", hours=3))
    expect(li.page.locator('[data-test="pending"]')).to_have_text(
        li._("%(minutes)d min", minutes=0)
    )
    check(li, "my-hours")
    liu = Person(browser, site, VOLUNTEERS[3], language)
    expect(liu.page.get_by_text("当天没有排班")).to_be_visible()
    a_volunteer_is_refused(li)

    # The street office verifies the whole ledger.
    office = Person(browser, site, "街道审计", language)
    check(office, "auditor")
    office.page.get_by_role("link", name=office._("Verify the whole ledger")).click()
    expect(office.page.locator('[data-test="verdict"]')).to_contain_text(
        "未发现问题" if language == "zh_Hans" else "No problems found"
    )
    check(office, "verify")

    for person in (li, chen, liu, office):
        person.close()


def test_the_sign_in_and_admin_pages_are_accessible(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server}/signin")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_label("令牌").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="登录").click()
    sync_api.expect(page.get_by_role("heading", level=1)).to_have_text("管理")
    assert_accessible(page)
    page.get_by_label("姓名").fill("李奶奶")
    page.get_by_role("button", name="登记并打印爱心服务卡").click()
    sync_api.expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "member-card")
    assert_accessible(page)
    page.goto(f"{server}/docs")
    sync_api.expect(page.locator(".swagger-ui .title").first).to_contain_text("Timebank")
    context.close()
