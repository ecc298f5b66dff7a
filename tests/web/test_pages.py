"""The pages as a browser without JavaScript uses them: sign in, forms, refusals, languages."""

from __future__ import annotations

import logging
import re

from fastapi.testclient import TestClient

from tests.support import TODAY
from tests.web.conftest import World, csrf_of, sign_in
from timebank import TimeBank
from web.app import CardLinksHidden
from web.auth import PageRoute
from web.pages import admin, auditor, coordinator, signing, volunteer


def _ledger(world: World) -> TimeBank:
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    return ledger


def test_a_card_link_signs_in_to_my_hours_in_chinese(world: World) -> None:
    response = world.client.get(f"/card/{world.tokens['volunteer']}", follow_redirects=False)

    cookie = response.headers["set-cookie"]
    assert response.status_code == 303
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie
    page = world.client.get(response.headers["location"], follow_redirects=True).text
    assert "Li，您好" in page
    # 180 approved - 30 held - 10 given: 140 minutes available, 45 waiting.
    assert re.search(r'data-test="available">2小时20分<', page)
    assert re.search(r'data-test="pending">45分钟<', page)
    assert "距下一星级还差" in page


def test_an_unknown_card_link_asks_to_sign_in_again(client: TestClient) -> None:
    response = client.get("/card/not-a-real-secret")

    assert response.status_code == 401
    assert "请登录：令牌或卡片链接无效或已失效。" in response.text


def test_signing_in_with_a_token_needs_the_form_token(world: World) -> None:
    form = world.client.get("/signin")
    refused = world.client.post("/signin", data={"token": world.tokens["volunteer"]})
    accepted = world.client.post(
        "/signin", data={"token": world.tokens["volunteer"], "csrf": csrf_of(form.text)}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert "Li，您好" in accepted.text


def test_a_volunteer_is_refused_the_coordinator_pages(world: World) -> None:
    sign_in(world.client, world.tokens["volunteer"])

    response = world.client.get("/coordinator")

    assert response.status_code == 403
    assert "您没有权限办理此事" in response.text


def test_a_form_without_its_csrf_token_changes_nothing(world: World) -> None:
    page = sign_in(world.client, world.tokens["volunteer"])
    team = re.search(r'<option value="([^"]+)">Day care', page)
    assert team is not None
    form = {
        "team_id": team.group(1),
        "service_date": "2026-11-19",
        "activity": "reading to Mrs Zhao",
        "hours": "1",
    }

    refused = world.client.post("/my/log", data=form)
    forged = world.client.post("/my/log", data={**form, "csrf": "guessed"})
    logged = world.client.post("/my/log", data={**form, "csrf": csrf_of(page)})

    assert refused.status_code == 403
    assert forged.status_code == 403
    assert "表单已过期或不是来自本站" in refused.text
    assert logged.status_code == 200
    assert logged.text.count("reading to Mrs Zhao") == 1  # logged once, by the real form


def test_signing_out_ends_the_session_on_the_server(world: World) -> None:
    page = sign_in(world.client, world.tokens["volunteer"])
    session = world.client.cookies.get("tb_session")
    assert session is not None

    world.client.post("/signout", data={"csrf": csrf_of(page)})
    world.client.cookies.set("tb_session", session)  # as a copied cookie would come back
    response = world.client.get("/my", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


def test_revoking_the_card_ends_its_sessions(world: World) -> None:
    card = _ledger(world).issue_card(actor_id=world.admin, member_id=world.wang)
    assert card.token.token is not None
    sign_in(world.client, card.token.token)
    assert world.client.get("/my").status_code == 200

    _ledger(world).issue_card(actor_id=world.admin, member_id=world.wang)  # replaces it

    assert world.client.get("/my", follow_redirects=False).headers["location"] == "/signin"


def test_the_coordinator_works_the_queue(world: World) -> None:
    ledger = _ledger(world)
    logs = [
        ledger.log_service(
            actor_id=world.volunteer,
            team_id=world.care_team,
            service_date=TODAY,
            minutes=60,
            activity=f"visit {n}",
        ).id
        for n in range(3)
    ]
    page = sign_in(world.client, world.tokens["coordinator"])
    queue = world.client.get("/coordinator").text
    assert queue.index("home care") < queue.index("visit 0")  # oldest first
    csrf = csrf_of(page)

    approved = world.client.post(
        "/coordinator/review",
        data={"csrf": csrf, "action": "approve_selected", "selected": [str(logs[0]), str(logs[1])]},
    )
    partial = world.client.post(
        "/coordinator/review",
        data={
            "csrf": csrf,
            "action": "partial",
            "log": str(logs[2]),
            "hours": "0",
            "minutes": "40",
            "reason": "left early",
        },
    )
    rejected = world.client.post(
        "/coordinator/review",
        data={"csrf": csrf, "action": "reject", "log": str(world.pending_log), "reason": "twice"},
    )

    assert "勾选的记录已通过。" in approved.text
    assert "已部分通过。" in partial.text
    assert "已驳回。" in rejected.text
    assert "没有待审核的记录。" in rejected.text
    statuses = {log: ledger.get_service_log(log) for log in logs}
    assert [statuses[log].approved_minutes for log in logs] == [60, 60, 40]


def test_deciding_a_log_twice_says_so(world: World) -> None:
    page = sign_in(world.client, world.tokens["coordinator"])
    form = {"csrf": csrf_of(page), "action": "approve", "log": str(world.approved_log)}

    response = world.client.post("/coordinator/review", data=form)

    assert response.status_code == 409
    assert "这条已经处理过" in response.text


def test_a_coordinator_records_an_activity_from_the_roster(world: World) -> None:
    sign_in(world.client, world.tokens["coordinator"])
    form_page = world.client.get("/coordinator/activity").text
    attendees = re.findall(r'name="attendee" value="([^"]+)"', form_page)
    assert len(attendees) == 3  # Chen, Li and Wang, ticked by name

    response = world.client.post(
        "/coordinator/activity",
        data={
            "csrf": csrf_of(form_page),
            "team_id": str(world.care_team),
            "service_date": "2026-11-20",
            "activity": "park outing",
            "hours": "1",
            "minutes": "30",
            "attendee": attendees,
            "roster": attendees,
            "own_minutes": ["", "", "45"],  # Wang, last by name, left early
        },
    )

    assert "活动已登记。" in response.text
    balance = world.client.get(f"/members/{world.wang}/balance", headers=world.headers("admin"))
    assert balance.json()["earned_minutes"] == 45


def test_giving_by_member_code_names_the_member_when_minutes_are_short(world: World) -> None:
    sign_in(world.client, world.tokens["volunteer"])
    by_name = world.client.get("/my/give", params={"name": "wa"}).text
    assert "转赠给 Wang" in by_name  # Wang is Li's registered agent: found by name
    found = world.client.get("/my/give", params={"code": world_code(world)}).text
    member = re.search(r'name="to_member_id" value="([^"]+)"', found)
    assert member is not None

    response = world.client.post(
        "/my/give",
        data={"csrf": csrf_of(found), "to_member_id": member.group(1), "hours": "10"},
    )

    assert response.status_code == 409
    assert "Li的可用时长只有 2小时20分，不能用 10小时。" in response.text


def world_code(world: World) -> str:
    profile = world.client.get(f"/members/{world.wang}", headers=world.headers("admin")).json()
    code: str = profile["code"]
    return code


def test_bad_input_is_a_clear_page_not_a_server_error(world: World) -> None:
    page = sign_in(world.client, world.tokens["volunteer"])

    response = world.client.post(
        "/my/log",
        data={"csrf": csrf_of(page), "team_id": "nonsense", "service_date": "yesterday"},
    )

    assert response.status_code == 422
    assert "表单中有内容缺失或不正确" in response.text
    assert "服务日期" in response.text


def test_the_language_is_remembered(world: World) -> None:
    sign_in(world.client, world.tokens["volunteer"])

    world.client.get("/language/en", params={"back": "/my"})
    english = world.client.get("/my").text
    world.client.get("/language/zh_Hans", params={"back": "/my"})
    chinese = world.client.get("/my").text

    assert "Hello, Li" in english
    assert "2 h 20 min" in english
    assert '<html lang="en">' in english
    assert "Li，您好" in chinese


def test_an_auditor_verifies_replays_and_exports(world: World) -> None:
    sign_in(world.client, world.tokens["auditor"])

    verified = world.client.get("/auditor/verify").text
    replayed = world.client.get("/auditor/replay", params={"as_of": "2030-01-01T00:00"}).text
    trail = world.client.get("/auditor/trail").text
    export = world.client.get("/auditor/export")

    assert "未发现问题" in verified
    assert "所有账户合计 0 分钟" in replayed
    assert "下一页" in trail
    after = re.search(r'href="/auditor/trail\?after=(\d+)"', trail)
    assert after is not None
    second = world.client.get("/auditor/trail", params={"after": after.group(1)}).text
    assert "第一页" in second
    assert f"<td>{int(after.group(1)) + 1}</td>" in second  # the page after the first
    assert export.headers["content-disposition"].startswith("attachment")
    assert '"checkpoint"' in export.text.splitlines()[-1]


def test_an_admin_registers_a_member_and_prints_a_card(world: World) -> None:
    page = sign_in(world.client, world.tokens["admin"])
    assert world.client.get("/").url.path == "/admin"

    card = world.client.post(
        "/admin/members", data={"csrf": csrf_of(page), "name": "李奶奶", "birth_date": "1948-03-02"}
    ).text
    link = re.search(r'data-test="card-link">([^<]+)<', card)

    assert "<svg" in card  # the QR code, drawn in the page
    assert link is not None
    world.client.cookies.clear()
    assert "李奶奶，您好" in world.client.get(link.group(1).split("testserver")[1]).text


def test_the_api_docs_come_from_this_server(client: TestClient) -> None:
    docs = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs) + re.findall(r"url: '([^']+)'", docs)

    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset


def test_the_api_error_message_follows_accept_language(world: World) -> None:
    body = {"to_member_id": str(world.wang), "minutes": 6000}
    headers = world.headers("volunteer")

    chinese = world.client.post(
        "/transfers", json=body, headers={**headers, "Accept-Language": "zh-CN,zh;q=0.9"}
    ).json()
    plain = world.client.post("/transfers", json=body, headers=headers).json()
    french = world.client.post(
        "/transfers", json=body, headers={**headers, "Accept-Language": "fr-FR"}
    ).json()

    assert chinese["error"]["code"] == plain["error"]["code"] == "insufficient_minutes"
    assert chinese["error"]["message"] == "Li的可用时长只有 2小时20分，不能用 100小时。"
    assert "140 minutes available" in plain["error"]["message"]
    assert french == plain  # no catalog for it: the message as it always was


def test_redoc_comes_from_this_server_too(client: TestClient) -> None:
    redoc = client.get("/redoc").text

    assert "fonts.googleapis" not in redoc
    for asset in re.findall(r'src="([^"]+)"', redoc):
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset


def test_a_volunteer_requests_a_redemption_and_cancels_it(world: World) -> None:
    page = sign_in(world.client, world.tokens["volunteer"])
    team = re.search(r'id="redeem-team" name="team_id"><option value="([^"]+)"', page)
    assert team is not None

    held = world.client.post(
        "/my/redeem",
        data={"csrf": csrf_of(page), "team_id": team.group(1), "service": "理发", "hours": "1"},
    ).text
    assert "时长已为这项服务冻结。" in held
    assert re.search(r'data-test="held">1小时30分<', held)  # 30 held before, 60 now
    earlier, haircut = re.findall(r'action="(/my/redemptions/[^"]+/cancel)"', held)  # oldest first
    cancelled = world.client.post(haircut, data={"csrf": csrf_of(held)}).text

    assert "兑换已取消，时长已退回。" in cancelled
    assert re.findall(r'action="(/my/redemptions/[^"]+/cancel)"', cancelled) == [earlier]


def test_a_coordinator_fulfils_a_redemption_of_the_team(world: World) -> None:
    page = sign_in(world.client, world.tokens["coordinator"])
    listed = world.client.get("/coordinator/redemptions").text
    assert "<strong>Li</strong> · haircut · 30分钟" in listed

    done = world.client.post(
        f"/coordinator/redemptions/{world.redemption}/fulfil", data={"csrf": csrf_of(page)}
    ).text

    assert "兑换已完成。" in done
    assert "没有等待中的兑换。" in done
    balance = world.client.get(
        f"/members/{world.volunteer}/balance", headers=world.headers("admin")
    ).json()
    assert balance["redeemed_minutes"] == 30


def test_a_coordinator_logs_for_a_member_without_a_phone(world: World) -> None:
    sign_in(world.client, world.tokens["coordinator"])
    form = world.client.get("/coordinator/activity").text

    response = world.client.post(
        "/coordinator/log",
        data={
            "csrf": csrf_of(form),
            "team_id": str(world.care_team),
            "volunteer_id": str(world.wang),
            "service_date": "2026-11-19",
            "activity": "送餐",
            "hours": "2",
        },
    )

    assert "已为该成员登记服务，等待审核。" in response.text
    assert "<strong>Wang</strong> · 2026-11-19 · 送餐 · 2小时" in response.text


def test_a_member_added_to_a_team_joins_it_from_their_page(world: World) -> None:
    page = sign_in(world.client, world.tokens["volunteer"])
    assert "Haircut（Linkou）邀请您成为志愿者。" in page

    joined = world.client.post(
        f"/my/teams/{world.invitation}/accept", data={"csrf": csrf_of(page)}
    ).text

    assert "您已加入队伍。" in joined
    assert '<option value="' + str(world.invitation) + '">Haircut</option>' in joined


def test_a_coordinator_prints_a_card_for_a_team_member(world: World) -> None:
    page = sign_in(world.client, world.tokens["coordinator"])

    card = world.client.post(
        "/coordinator/cards",
        data={"csrf": csrf_of(page), "member_id": str(world.wang), "team_id": str(world.care_team)},
    ).text
    link = re.search(r'data-test="card-link">http://testserver([^<]+)<', card)

    assert "请现在打印Wang的卡" in card
    assert link is not None
    world.client.cookies.clear()
    assert "Wang，您好" in world.client.get(link.group(1)).text


def test_pages_load_nothing_from_elsewhere_and_are_never_framed(world: World) -> None:
    response = world.client.get("/signin")

    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', response.text))


def test_a_rule_of_the_ledger_is_told_in_the_readers_language(world: World) -> None:
    page = sign_in(world.client, world.tokens["volunteer"])
    form = {
        "csrf": csrf_of(page),
        "team_id": str(world.care_team),
        "service_date": "2026-12-01",  # "today" is 2026-11-20
        "activity": "home care",
        "hours": "1",
    }

    chinese = world.client.post("/my/log", data=form)
    world.client.get("/language/en")
    english = world.client.post("/my/log", data=form)

    assert chinese.status_code == english.status_code == 422
    assert "服务日期：不能提前登记服务" in chinese.text
    assert "Service date: service cannot be logged in advance" in english.text


def test_signing_in_again_ends_the_session_before(world: World) -> None:
    sign_in(world.client, world.tokens["volunteer"])
    earlier = world.client.cookies.get("tb_session")
    sign_in(world.client, world.tokens["coordinator"])
    assert earlier is not None

    world.client.cookies.set("tb_session", earlier)

    assert world.client.get("/my", follow_redirects=False).headers["location"] == "/signin"


def test_the_access_log_never_shows_a_card_links_secret() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/card/s3cr3t-Token_value", "1.1", 303),
        None,
    )

    CardLinksHidden().filter(record)

    assert record.getMessage() == '127.0.0.1:5000 - "GET /card/… HTTP/1.1" 303'


def test_an_agent_finds_the_member_they_act_for_by_name(world: World) -> None:
    """Wang acts for Li: he finds her by name; nobody else's name is searched."""
    card = _ledger(world).issue_card(actor_id=world.admin, member_id=world.wang)
    assert card.token.token is not None
    sign_in(world.client, card.token.token)

    found = world.client.get("/my/give", params={"name": "l"}).text
    nobody = world.client.get("/my/give", params={"name": "Chen"}).text

    assert "转赠给 Li" in found
    assert "没有找到" in nobody


def test_no_bad_input_makes_a_page_fail(world: World) -> None:
    """Every page route, given nonsense by each kind of reader: a clear answer, never a 500."""
    routes = [
        (method, route.path)
        for pages in (signing, volunteer, coordinator, auditor, admin)
        for route in pages.router.routes
        if isinstance(route, PageRoute) and route.path != "/signout"  # stays signed in
        for method in route.methods or ()
    ]
    junk = {
        "team_id": "x",
        "log": "00000000-0000-0000-0000-00000000000z",
        "selected": "nope",
        "hours": "-1",
        "minutes": "99",
        "service_date": "1800-13-45",
        "activity": "\u202e",
        "name": "",
        "code": "?",
        "after": "-3",
        "period": "2026-W99",
        "as_of": "soon",
        "action": "approve_selected",
        "member_id": "1",
        "to_member_id": "",
        "role": "emperor",
    }
    assert len(routes) > 20
    for role in ("volunteer", "coordinator", "auditor", "admin"):
        world.client.cookies.clear()
        page = sign_in(world.client, world.tokens[role])
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", "not-an-id", path)
            if method == "GET":
                response = world.client.get(url, params=junk)
            else:
                response = world.client.post(url, data={**junk, "csrf": csrf_of(page)})
            assert response.status_code < 500, (role, method, path, response.text[:300])
        assert world.client.get("/").url.path != "/signin"  # nonsense signed nobody out


def test_minutes_that_will_expire_are_shown_with_their_day(world: World) -> None:
    ledger = _ledger(world)
    ledger.adopt_policy(actor_id=world.admin, changes={"expiry_months": 12}, reason="城市规定")
    ledger.approve_service(actor_id=world.coordinator, service_log_id=world.pending_log)

    page = sign_in(world.client, world.tokens["volunteer"])

    assert re.search(r'data-test="expiring">即将过期： 2027-11-20 过期 45分钟<', page)


def test_a_volunteer_finds_her_certificate_on_her_page_and_downloads_it(world: World) -> None:
    issued = _ledger(world).issue_certificate(
        actor_id=world.coordinator,
        volunteer_id=world.volunteer,
        period_from=TODAY.replace(month=1, day=1),
        period_until=TODAY,
        log_ids=[world.approved_log],
        team_id=world.care_team,
    )
    page = sign_in(world.client, world.tokens["volunteer"])
    entry = re.search(r'data-test="certificate">(.*?)</li>', page, re.S)

    pdf = world.client.get(f"/my/certificates/{issued.id}/pdf")
    api_pdf = world.client.get(f"/certificates/{issued.id}/pdf", headers=world.headers("volunteer"))
    someone_else = TestClient(world.client.app)
    sign_in(someone_else, world.tokens["other_coordinator"])
    refused = someone_else.get(f"/my/certificates/{issued.id}/pdf")

    assert entry is not None
    assert issued.number in entry.group(1)
    assert "1小时" in entry.group(1)
    assert "有效" in entry.group(1)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert pdf.content == api_pdf.content  # the same document as the API gives
    assert refused.status_code == 403
