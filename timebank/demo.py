"""A demo community built from the source stories, filled in through the ledger's own commands."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from timebank.application import SYSTEM_ACTOR_ID, TimeBank
from timebank.coordination import Attendee
from timebank.errors import TimebankError
from timebank.members import GlobalRole
from timebank.teams import TeamRole

# The Linkou story (seed 004) works "in 6 communities" but names only 站前社区; the other
# five are the communities of the other stories (Xinghuo, Dongcheng, Wanghailou, Huazhangli,
# Fangtaidong).
COMMUNITIES = ("站前社区", "星火社区", "东城社区", "望海楼社区", "华章里社区", "方泰东社区")

SEED, VOLUNTEERS, MONTHS = 1, 300, 12  # the default demo
GRID_WORKERS_PER_COMMUNITY = 3  # Dongcheng: 9 elder-care grids, 18 social workers


@dataclass(frozen=True)
class Activity:
    """One kind of session a team holds: how often, how many serve, for how long."""

    name: str
    per_month: float  # sessions per team per month, on average
    persons: tuple[int, int]  # volunteers serving in one session (fewest, most)
    minutes: tuple[int, ...]  # time served by each, travel excluded
    beneficiary: str | None = None  # a place or group served, when it is not one elder
    for_elder: bool = False  # serves one elder of the community, named in the log
    months: tuple[int, ...] = ()  # the months it is held in; all year when empty

    def held_in(self, month: int) -> bool:
        return not self.months or month in self.months


@dataclass(frozen=True)
class TeamKind:
    """One of the Linkou "double-ten" kinds of service team, with the sessions it holds."""

    name: str
    teams: int  # how many teams of the kind, each in one community (the story's counts)
    activities: tuple[Activity, ...]
    community: str | None = None  # where its one team is, when the story says


# The twenty kinds of team of the Linkou story (seed 004), in its order and with its names.
# Team counts are the story's where it gives one (4 clinics, 6 ad-cleaning, 6 hygiene,
# 6 day-care, 4 haircut teams); elsewhere they are guesses of the same size. Frequencies
# follow its wording: "每季度集中清理活动2次", "每月深入6个社区", "坚持每日到老人家中", ...
TEAM_KINDS: tuple[TeamKind, ...] = (
    TeamKind(
        "健康义诊",
        4,
        (
            Activity("社区义诊", 1.5, (3, 6), (120, 150, 180)),
            Activity("上门健康体检", 2.0, (1, 2), (60, 90), for_elder=True),
            Activity("健康知识讲座", 0.35, (2, 3), (90, 120)),
        ),
    ),
    TeamKind(
        "小广告清理",
        6,
        (
            Activity("季度集中清理", 2 / 3, (4, 8), (120, 180)),
            Activity("楼院小广告清理", 2.5, (1, 3), (60, 90)),
        ),
    ),
    TeamKind(
        "环境卫生监督",
        6,
        (
            Activity("大型卫生整治", 2 / 3, (5, 8), (180, 240)),
            Activity("卫生死角清理", 2.5, (2, 4), (60, 90, 120)),
        ),
    ),
    TeamKind(
        "助老助残",
        3,
        (
            Activity("廉租房楼院结对帮扶", 2.0, (2, 4), (90, 120), for_elder=True),
            Activity("养老院义务服务", 1.0, (3, 6), (120, 180), beneficiary="养老院"),
            Activity("包饺子送温暖", 2.0, (4, 8), (150, 180), months=(1, 2)),
        ),
    ),
    TeamKind(
        "日间照料",
        6,
        (
            Activity("上门生活照料", 12.0, (1, 2), (60, 90, 120), for_elder=True),
            Activity("家居清洁", 3.0, (1, 2), (90, 120), for_elder=True),
            Activity("陪同就医", 1.0, (1, 1), (120, 180), for_elder=True),
        ),
    ),
    TeamKind(
        "义务理发",
        4,
        (
            Activity("广场义务理发", 1.0, (3, 5), (120, 180)),
            Activity("老年公寓理发", 1.0, (3, 6), (120, 150), beneficiary="福顺老年公寓"),
        ),
    ),
    TeamKind(
        "爱心慈善",
        2,
        (
            Activity("慈善义卖", 0.5, (4, 8), (180, 240)),
            Activity("特困家庭结对帮扶", 2.0, (1, 3), (90, 120)),
            Activity("清理越冬塑料布、劈柴", 4.0, (3, 6), (120, 180), months=(10, 11)),
        ),
    ),
    TeamKind(
        "社会治安巡查",
        6,
        (
            Activity("警民联合巡逻", 6.0, (2, 4), (120,)),
            Activity("看楼护院", 2.0, (1, 2), (120, 180)),
            Activity("治安综合治理宣传", 1 / 3, (3, 6), (90, 120)),
        ),
    ),
    TeamKind(
        "德孝文化宣讲",
        1,
        (
            Activity("市民大讲堂德孝宣讲", 1 / 6, (4, 8), (120, 180)),
            Activity("党员干部结对帮扶", 1.5, (2, 3), (60, 90)),
            Activity("节日慰问空巢母亲", 2.0, (2, 4), (90, 120), months=(2, 5, 10)),
        ),
    ),
    TeamKind(
        "夕阳红关心下一代",
        2,
        (
            Activity("闲散青少年情况摸底", 1.0, (2, 3), (90, 120)),
            Activity("市民道德讲堂", 0.25, (3, 5), (120,)),
        ),
    ),
    TeamKind(
        "妇女儿童维权",
        1,
        (
            Activity("维权咨询与心理疏导", 2.0, (1, 2), (60, 90, 120)),
            Activity("春蕾捐资助学", 0.25, (3, 5), (120, 180)),
        ),
    ),
    TeamKind(
        "就业再就业指导",
        1,
        (
            Activity("广场就业信息发布会", 1 / 6, (5, 8), (180, 240)),
            Activity("社区就业信息发布", 2.0, (2, 3), (90, 120)),
            Activity("技能培训", 0.5, (2, 4), (120, 180)),
        ),
    ),
    TeamKind(
        "政策法规宣传",
        2,
        (
            Activity("广场法制宣传日", 1 / 6, (4, 8), (180, 240)),
            Activity("社区政策宣传", 1.0, (2, 4), (90, 120)),
        ),
    ),
    TeamKind(
        "法律援助",
        2,
        (
            Activity("社区法律知识讲解", 2 / 3, (2, 3), (90, 120)),
            Activity("上门法律咨询", 1.5, (1, 2), (60, 90), for_elder=True),
        ),
    ),
    TeamKind(
        "文艺演出",
        2,
        (
            Activity("假日文化主题演出", 2 / 3, (5, 10), (150, 180, 240)),
            Activity("全民互动广场舞", 2.0, (2, 4), (90, 120)),
        ),
    ),
    TeamKind(
        "健身舞蹈",
        3,
        (
            Activity("广场健身舞蹈", 4.0, (2, 4), (60, 90)),
            Activity("健身舞蹈比赛", 1 / 6, (5, 8), (180,)),
        ),
    ),
    TeamKind("社区矫正", 1, (Activity("矫正对象走访帮教", 2.0, (1, 2), (60, 90, 120)),)),
    TeamKind("刑释解教人员安置帮教", 1, (Activity("安置帮教走访", 1.5, (1, 2), (60, 90)),)),
    TeamKind(
        "无邪教社区",
        2,
        (
            Activity("反邪教宣传", 2.0, (2, 3), (60, 90)),
            Activity("宣传栏维护", 1.0, (1, 2), (60,)),
        ),
    ),
    TeamKind(
        "邻里纠纷调解",
        6,
        (
            Activity("矛盾纠纷排查调解", 1.5, (2, 3), (90, 120)),
            Activity("法律咨询答疑", 1.0, (1, 2), (60, 90)),
        ),
    ),
    # Seed 003: "方泰东社区党委发动党员骨干组建“银龄互助队”，结对帮扶独居老人26户". Its
    # visits follow its pairings (结对); a monthly tea party is its one session of many.
    TeamKind(
        "银龄互助",
        1,
        (Activity("银龄互助茶话会", 1.0, (3, 6), (90, 120)),),
        community="方泰东社区",
    ),
)
SILVER = TEAM_KINDS[-1]
SILVER_VOLUNTEERS = 8  # party members of silver age (60-72), who joined when it began
SILVER_ELDERS = 26  # the elders living alone it pairs with, one volunteer each
SILVER_QUIET = 3  # pairings whose volunteer stopped visiting lately: the care-gap list
VISITS_PER_WEEK = 2
GROUP_AS_ACTIVITY = 0.6  # share of sessions of 3 or more recorded as one activity (场次)

# What elders spend their hours on, and the kind of team that delivers it.
CARE_SERVICES = (
    ("上门生活照料", "日间照料"),
    ("家居清洁", "日间照料"),
    ("陪同就医", "日间照料"),
    ("上门理发", "义务理发"),
    ("上门健康体检", "健康义诊"),
)

REJECTION_REASONS = (
    "签到表无此人当日记录",
    "与同日另一条记录重复",
    "服务时长含路途时间，请按实际服务时间重新登记",
    "服务对象不在本社区，请由所在社区服务小队登记",
)
REVERSAL_REASONS = (
    "复核签到表发现重复登记",
    "服务对象反映当日未上门",
    "活动因天气取消，误批",
)
CANCEL_REASONS = ("老人住院，服务暂停", "家属已自行安排", "老人改约其他时间")

# 重阳节 (the ninth day of the ninth lunar month), when children give their parents hours.
DOUBLE_NINTH = {
    date(2021, 10, 14),
    date(2022, 10, 4),
    date(2023, 10, 23),
    date(2024, 10, 11),
    date(2025, 10, 29),
    date(2026, 10, 18),
    date(2027, 10, 8),
    date(2028, 10, 26),
    date(2029, 10, 16),
    date(2030, 10, 5),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲燕红梅琳晶欣雪婷慧颖桂兰英凤萍莉淑"
GIVEN_MALE = "伟强磊军洋勇杰涛明超平刚鹏辉华飞鑫波宁浩宇博晨旭峰建国林东海斌"
ELDER_FEMALE = ("秀英", "桂兰", "淑珍", "玉兰", "凤英", "桂芝", "秀兰", "玉珍", "素珍", "翠兰")
ELDER_MALE = ("德胜", "振华", "国强", "建国", "福山", "长顺", "永福", "宝山", "文忠", "庆云")


class LedgerNotEmptyError(TimebankError):
    """The demo only fills an empty store, so it can never mix into a real ledger."""

    def __init__(self, events: int) -> None:
        super().__init__(
            f"the store already holds a ledger ({events} events); "
            "the demo only fills an empty store"
        )
        self.events = events


@dataclass(frozen=True)
class Person:
    id: UUID
    name: str
    birth_date: date
    female: bool
    community: str


@dataclass
class DemoTeam:
    id: UUID
    name: str
    kind: TeamKind
    community: str
    coordinator: Person
    deputy: Person  # a second grid worker: confirms what the coordinator asked for
    volunteers: list[tuple[Person, date]] = field(default_factory=list)  # with join date


@dataclass(frozen=True)
class Paired:
    """A volunteer paired with an elder living alone, visiting until `until`."""

    id: UUID
    team: DemoTeam
    volunteer: Person
    elder: Person
    until: date


@dataclass(frozen=True)
class Token:
    """A member whose token the demo prints, with the role they try the ledger as."""

    role: str
    member_id: UUID
    name: str
    token: str


@dataclass
class Summary:
    """What the demo put in the ledger."""

    first_day: date
    last_day: date
    teams: list[DemoTeam] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    members: int = 0
    elders: int = 0
    volunteers: int = 0
    coordinators: int = 0
    logged: int = 0
    approved: int = 0
    partly_approved: int = 0
    rejected: int = 0
    reversed: int = 0
    activities: int = 0  # sessions recorded as one activity with their attendees
    pairings: int = 0
    visits: int = 0  # logs of visits to a paired elder
    redemptions: int = 0
    fulfilled: int = 0
    cancelled: int = 0
    transfers: int = 0

    @property
    def pending(self) -> int:
        return self.logged - self.approved - self.partly_approved - self.rejected

    @property
    def held(self) -> int:
        """Redemptions asked for too late in the period to be settled: still held."""
        return self.redemptions - self.fulfilled - self.cancelled


def stored_events(ledger: TimeBank) -> int:
    """How far the store's log reaches (0 when it is empty)."""
    return ledger.recorder.max_notification_id() or 0


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (following - timedelta(days=1)).day))


def service_period(today: date, months: int) -> tuple[date, date]:
    """The first and last day of `months` of service ending yesterday."""
    last = today - timedelta(days=1)
    return months_before(last, months) + timedelta(days=1), last


def steps(today: date, *, volunteers: int, months: int) -> int:
    """How many steps `build_demo` reports to its progress callback."""
    first, last = service_period(today, months)
    return volunteers + (last - first).days + 1


def build_demo(
    ledger: TimeBank,
    *,
    seed: int = SEED,
    volunteers: int = VOLUNTEERS,
    months: int = MONTHS,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Fill an empty ledger with the demo community and `months` of service ending yesterday.

    The same seed gives the same names, dates, amounts, counts and balances (the library
    gives new aggregates random ids, so those differ). `progress` is told of each step
    done, out of `steps(...)`: one per volunteer enlisted, then one per day lived.
    """
    events = stored_events(ledger)
    if events:
        raise LedgerNotEmptyError(events)
    first, last = service_period(ledger.today(), months)
    builder = _Builder(ledger, random.Random(seed), first, last)  # noqa: S311 (a demo, not a secret)
    days = (last - first).days + 1
    tick = progress or (lambda _: None)
    builder.found_community(volunteers, tick)
    for offset in range(days):
        builder.live(first + timedelta(days=offset))
        tick(1)
    return builder.summary


class _Builder:
    """Takes every decision with one seeded generator, in one fixed order, so a seed always
    gives the same ledger; acts only through the ledger's commands, as real users do."""

    def __init__(self, ledger: TimeBank, rng: random.Random, first: date, last: date) -> None:
        self.ledger = ledger
        self.rng = rng
        self.first = first
        self.last = last
        self.summary = Summary(first, last)
        self.names: set[str] = set()
        self.admin = SYSTEM_ACTOR_ID
        self.teams = self.summary.teams
        self.elders: list[Person] = []
        self.card_codes: dict[UUID, str] = {}  # an elder's member card (爱心服务卡)
        self.agents: dict[UUID, Person] = {}  # an elder's child, acting for them (家属代办)
        self.parents: list[tuple[Person, Person]] = []  # (child, parent)
        self.reversals: dict[date, list[tuple[UUID, DemoTeam, Person, int]]] = defaultdict(list)
        self.settlements: dict[date, list[tuple[UUID, DemoTeam, Person]]] = defaultdict(list)
        self.paired: list[Paired] = []

    # The community ------------------------------------------------------------------

    def found_community(self, volunteers: int, tick: Callable[[int], None]) -> None:
        rng = self.rng
        self.admin = self._register("admin", rng.choice(COMMUNITIES), (35, 55), GlobalRole.ADMIN).id
        self._register("auditor", rng.choice(COMMUNITIES), (35, 55), GlobalRole.AUDITOR)
        founded = {c: self.first - timedelta(days=rng.randint(30, 365)) for c in COMMUNITIES}
        served = {
            kind.name: {kind.community}
            if kind.community
            else set(rng.sample(COMMUNITIES, kind.teams))
            for kind in TEAM_KINDS
        }
        for community in COMMUNITIES:
            grid_workers: list[Person] = []
            for _ in range(GRID_WORKERS_PER_COMMUNITY):
                # The grid worker whose token is printed coordinates the silver-age team,
                # so that the tour can ask which of its elders nobody visited this week.
                printed = community == SILVER.community and not grid_workers
                grid_workers.append(
                    self._register("coordinator" if printed else None, community, (28, 50))
                )
                self.summary.coordinators += 1
            kinds = [kind for kind in TEAM_KINDS if community in served[kind.name]]
            kinds.sort(key=lambda kind: kind is not SILVER)
            for index, kind in enumerate(kinds):
                coordinator = grid_workers[index % len(grid_workers)]
                deputy = grid_workers[(index + 1) % len(grid_workers)]
                self._form_team(kind, community, coordinator, deputy, founded[community])
        self.teams.sort(key=lambda t: (TEAM_KINDS.index(t.kind), COMMUNITIES.index(t.community)))
        for _ in range(max(3, volunteers // 5)):
            elder = self._register(None, rng.choice(COMMUNITIES), (80, 96))
            self.elders.append(elder)
            card = self.ledger.issue_card(actor_id=self.admin, member_id=elder.id)
            self.card_codes[elder.id] = card.code or ""
        self._pair_elders_living_alone(founded)
        self.summary.elders = len(self.elders)
        order = rng.sample(self.teams, len(self.teams))
        # The volunteer whose token is printed serves in a team the printed coordinator
        # coordinates, so that the tour can follow one log from logging to approval.
        [shown] = [t.member_id for t in self.summary.tokens if t.role == "coordinator"]
        showcase = next(t for t in order if t.coordinator.id == shown)
        order.remove(showcase)
        order.insert(0, showcase)
        for index in range(volunteers):
            self._enlist(index, order[index % len(order)], founded)
            tick(1)

    def _pair_elders_living_alone(self, founded: dict[str, date]) -> None:
        """The silver-age team: its founding volunteers, and the elders living alone each
        is paired with; a few volunteers stopped visiting in the last weeks."""
        rng = self.rng
        [team] = [t for t in self.teams if t.kind is SILVER]
        began = founded[team.community]
        for _ in range(SILVER_VOLUNTEERS):
            person = self._register(None, team.community, (60, 72))
            self._join(team.id, person, TeamRole.VOLUNTEER, began)
            team.volunteers.append((person, began))
            self.summary.volunteers += 1
        quiet = set(rng.sample(range(SILVER_ELDERS), SILVER_QUIET))
        for index in range(SILVER_ELDERS):
            elder = self._register(None, team.community, (78, 95))
            self.elders.append(elder)
            card = self.ledger.issue_card(actor_id=self.admin, member_id=elder.id)
            self.card_codes[elder.id] = card.code or ""
            volunteer = team.volunteers[index % SILVER_VOLUNTEERS][0]
            pairing = self.ledger.form_pairing(
                actor_id=team.coordinator.id,
                team_id=team.id,
                beneficiary_id=elder.id,
                volunteer_id=volunteer.id,
                since=began + timedelta(days=rng.randint(7, 21)),
                note="独居老人",
            )
            until = self.last - timedelta(days=rng.randint(9, 20)) if index in quiet else self.last
            self.paired.append(Paired(pairing.id, team, volunteer, elder, until))
            self.summary.pairings += 1

    def _form_team(
        self, kind: TeamKind, community: str, coordinator: Person, deputy: Person, since: date
    ) -> None:
        view = self.ledger.form_team(
            actor_id=self.admin,
            name=f"{community}{kind.name}服务小队",
            community=community,
            founded_on=since,
        )
        for person in (coordinator, deputy):
            self._join(view.id, person, TeamRole.COORDINATOR, since)
        self.teams.append(DemoTeam(view.id, view.name, kind, community, coordinator, deputy))

    def _join(self, team_id: UUID, person: Person, role: TeamRole, since: date) -> None:
        """An admin adds the member; the member accepts, so the team's coordinators may
        look after their minutes."""
        self.ledger.add_team_member(
            actor_id=self.admin,
            team_id=team_id,
            member_id=person.id,
            role=role,
            effective_date=since,
        )
        self.ledger.accept_membership(actor_id=person.id, team_id=team_id, member_id=person.id)

    def _enlist(self, index: int, team: DemoTeam, founded: dict[str, date]) -> None:
        """A volunteer joins a team (and sometimes a second one in the same community);
        the first one enlisted, whose token is printed, served all year and has a parent."""
        rng = self.rng
        role = "volunteer" if index == 0 else None
        person = self._register(role, team.community, (45, 60) if index == 0 else (18, 75))
        self.summary.volunteers += 1
        teams = [team]
        if rng.random() < 0.3:
            other = rng.choice([t for t in self.teams if t.community == team.community])
            if other is not team:
                teams.append(other)
        for chosen in teams:
            late = index > 0 and rng.random() < 0.15
            days = (self.last - self.first).days
            since = (
                self.first + timedelta(days=rng.randint(0, days * 2 // 3))
                if late
                else founded[team.community] + timedelta(days=rng.randint(0, 25))
            )
            self._join(chosen.id, person, TeamRole.VOLUNTEER, since)
            chosen.volunteers.append((person, since))
        age = self._age(person)
        if index == 0 or (45 <= age <= 65 and rng.random() < 0.5):
            elders = [e for e in self.elders if 18 <= self._age(e) - age <= 45]
            if elders:
                parent = rng.choice(elders)
                self.parents.append((person, parent))
                if parent.id not in self.agents:  # the parent names the child their agent
                    self.ledger.register_agent(
                        actor_id=parent.id,
                        member_id=parent.id,
                        agent_id=person.id,
                        since=self.ledger.today(),
                    )
                    self.agents[parent.id] = person

    def _register(
        self,
        role: str | None,
        community: str,
        ages: tuple[int, int],
        global_role: GlobalRole | None = None,
    ) -> Person:
        """A member with a unique name; the members whose token is printed get one."""
        rng = self.rng
        female = rng.random() < 0.55
        elder = ages[0] >= 80
        while True:
            if elder:
                given = rng.choice(ELDER_FEMALE if female else ELDER_MALE)
            else:
                chars = GIVEN_FEMALE if female else GIVEN_MALE
                given = "".join(rng.choice(chars) for _ in range(rng.choice((1, 2, 2))))
            name = rng.choice(SURNAMES) + given
            if name not in self.names:
                self.names.add(name)
                break
        age_days = rng.randint(ages[0] * 365 + 30, ages[1] * 365 + 300)
        born = self.ledger.today() - timedelta(days=age_days)
        roles = [global_role] if global_role else []
        actor = SYSTEM_ACTOR_ID if global_role is GlobalRole.ADMIN else self.admin
        if role is None:
            view = self.ledger.register_member(
                actor_id=actor, name=name, birth_date=born, roles=roles
            )
            member_id = view.id
        else:
            registered = self.ledger.register_member_with_token(
                actor_id=actor, name=name, birth_date=born, roles=roles
            )
            member_id = registered.member.id
            self.summary.tokens.append(Token(role, member_id, name, registered.token.token or ""))
        self.summary.members += 1
        return Person(member_id, name, born, female, community)

    def _age(self, person: Person) -> int:
        return (self.first - person.birth_date).days // 365

    # A day of the time bank -----------------------------------------------------------

    def live(self, day: date) -> None:
        """Corrections and redemptions that fall due, the day's sessions, then gifts."""
        for log_id, team, person, minutes in self.reversals.pop(day, ()):
            self._reverse(log_id, team, person, minutes)
        for redemption_id, team, elder in self.settlements.pop(day, ()):
            self._settle(redemption_id, team, elder)
        for team in self.teams:
            for activity in team.kind.activities:
                # Daily odds of a session from its monthly frequency.
                if activity.held_in(day.month) and self.rng.random() < activity.per_month / 30:
                    self._session(team, activity, day)
        for pair in self.paired:
            if day <= pair.until and self.rng.random() < VISITS_PER_WEEK / 7:
                self._serve(
                    pair.team,
                    pair.volunteer,
                    day,
                    activity="探访独居老人",
                    minutes=self.rng.choice((30, 45, 60)),
                    beneficiary=pair.elder.name,
                    pairing_id=pair.id,
                )
                self.summary.visits += 1
        for elder in self.elders:
            if self.rng.random() < 1.5 / 30:
                self._redeem(elder, day)
        festival = day in DOUBLE_NINTH
        if festival or day.day == 1:
            for child, parent in self.parents:
                if self.rng.random() < (0.8 if festival else 0.25):
                    self._give(child, parent, festival)

    def _session(self, team: DemoTeam, activity: Activity, day: date) -> None:
        rng = self.rng
        present = [person for person, since in team.volunteers if since <= day]
        if not present:
            return
        serving = rng.sample(present, min(len(present), rng.randint(*activity.persons)))
        minutes = rng.choice(activity.minutes)
        beneficiary = activity.beneficiary
        if activity.for_elder:
            nearby = [e for e in self.elders if e.community == team.community] or self.elders
            beneficiary = rng.choice(nearby).name
        if len(serving) >= 3 and rng.random() < GROUP_AS_ACTIVITY:
            # The grid worker records the session from its sign-in sheet, and so certifies it.
            self.ledger.record_activity(
                actor_id=team.coordinator.id,
                team_id=team.id,
                service_date=day,
                activity=activity.name,
                beneficiaries=beneficiary,
                attendees=[Attendee(person.id, minutes) for person in serving],
            )
            self.summary.activities += 1
            self.summary.logged += len(serving)
            self.summary.approved += len(serving)
            return
        for person in serving:
            self._serve(
                team, person, day, activity=activity.name, minutes=minutes, beneficiary=beneficiary
            )

    def _serve(
        self,
        team: DemoTeam,
        person: Person,
        day: date,
        *,
        activity: str,
        minutes: int,
        beneficiary: str | None,
        pairing_id: UUID | None = None,
    ) -> None:
        """One volunteer's service: logged (by them, or by the grid worker for those without
        a phone), then reviewed: most approved, some only in part, a few rejected, the last
        few days partly still waiting."""
        rng = self.rng
        outcome = rng.random()
        travel = rng.choice((15, 30)) if 0.03 <= outcome < 0.11 else 0  # logged with travel
        for_them = rng.random() < 0.25
        coordinator = team.coordinator.id
        log = self.ledger.log_service(
            actor_id=coordinator if for_them else person.id,
            team_id=team.id,
            service_date=day,
            minutes=minutes + travel,
            activity=activity,
            volunteer_id=person.id if for_them else None,
            beneficiary=beneficiary,
            note="网格员代为登记" if for_them else None,
            pairing_id=pairing_id,
        )
        self.summary.logged += 1
        if (self.last - day).days < 5 and rng.random() < 0.5:
            return  # still awaiting review
        if outcome < 0.03:
            self.ledger.reject_service(
                actor_id=coordinator, service_log_id=log.id, reason=rng.choice(REJECTION_REASONS)
            )
            self.summary.rejected += 1
            return
        self.ledger.approve_service(actor_id=coordinator, service_log_id=log.id, minutes=minutes)
        if travel:
            self.summary.partly_approved += 1
        else:
            self.summary.approved += 1
        if rng.random() < 0.012:
            due = day + timedelta(days=rng.randint(5, 45))
            if due <= self.last:
                self.reversals[due].append((log.id, team, person, minutes))

    def _reverse(self, log_id: UUID, team: DemoTeam, person: Person, minutes: int) -> None:
        """A wrong approval found on review is reversed, if the hours are still there."""
        if self.ledger.get_account(person.id).available_minutes < minutes:
            return
        self.ledger.reverse_service(
            actor_id=team.coordinator.id,
            service_log_id=log_id,
            reason=self.rng.choice(REVERSAL_REASONS),
        )
        self.summary.reversed += 1

    def _redeem(self, elder: Person, day: date) -> None:
        """An elder spends hours on care: usually at the delivering team's counter, where
        the grid worker takes the code of the elder's card; otherwise through the child
        who acts for them, or themself. The hold is settled a few days later, unless the
        period ends first."""
        rng = self.rng
        service, kind = rng.choice(CARE_SERVICES)
        available = self.ledger.get_account(elder.id).available_minutes
        minutes = min(rng.choice((60, 90, 120)), available // 30 * 30)
        if minutes < 60:
            return
        team = self._team_for(kind, elder.community)
        at_counter = rng.random() < 0.8
        agent = self.agents.get(elder.id)
        asker = team.coordinator.id if at_counter else (agent or elder).id
        view = self.ledger.request_redemption(
            actor_id=asker,
            team_id=team.id,
            service=service,
            minutes=minutes,
            member_id=elder.id,
            card_code=self.card_codes[elder.id] if at_counter else None,
        )
        self.summary.redemptions += 1
        due = day + timedelta(days=rng.randint(1, 6))
        if due <= self.last:
            self.settlements[due].append((view.id, team, elder))

    def _settle(self, redemption_id: UUID, team: DemoTeam, elder: Person) -> None:
        """Delivered, confirmed by a grid worker who did not ask for it; or called off."""
        rng = self.rng
        if rng.random() < 0.9:
            asked = self.ledger.get_redemption(redemption_id).requested_by
            confirmer = team.deputy if asked == team.coordinator.id else team.coordinator
            self.ledger.fulfil_redemption(actor_id=confirmer.id, redemption_id=redemption_id)
            self.summary.fulfilled += 1
            return
        actor = team.coordinator.id if rng.random() < 0.7 else elder.id
        self.ledger.cancel_redemption(
            actor_id=actor, redemption_id=redemption_id, reason=rng.choice(CANCEL_REASONS)
        )
        self.summary.cancelled += 1

    def _give(self, child: Person, parent: Person, festival: bool) -> None:
        """转赠: a volunteer gives a parent up to half of their available hours."""
        available = self.ledger.get_account(child.id).available_minutes
        if available < 120:
            return
        minutes = 60 * self.rng.randint(1, available // 120)
        relation = "母亲" if parent.female else "父亲"
        self.ledger.transfer(
            actor_id=child.id,
            to_member_id=parent.id,
            minutes=minutes,
            note=f"重阳节转赠给{relation}" if festival else f"转赠给{relation}",
        )
        self.summary.transfers += 1

    def _team_for(self, kind: str, community: str) -> DemoTeam:
        """The community's team of that kind; day care (in every community) otherwise."""
        for team in self.teams:
            if team.kind.name == kind and team.community == community:
                return team
        return next(t for t in self.teams if t.kind.name == "日间照料" and t.community == community)
