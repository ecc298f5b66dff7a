"""`timebank policy show|adopt` and `timebank what-if`: the community's rules at a terminal.

A rules file is TOML and names only the rules that change, as the API takes them:

    balance_cap_minutes = 90000                 # Nanjing: 1,500 hours
    star_ladder_hours = [100, 200, 500, 800, 1000]  # Beijing
    expiry_months = 36
    redemption_min_age = 60
    hardship_exception = true
    daily_limit_minutes = 1440
    organisation = "林口县时间银行"
    certificate_prefix = "LK"

`balance_cap_minutes = false` (likewise `redemption_min_age`, `expiry_months`) removes it.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from cli.views import opened
from projections.expiry import sweep
from projections.queries import Reader
from projections.visibility import Viewer
from projections.what_if import WhatIf, replay_under
from timebank.application import SYSTEM_ACTOR_ID
from timebank.errors import NotFoundError, TimebankError
from timebank.policies import Rules
from timebank.rules import parse_date

app = typer.Typer(help="The community's rules: read them, adopt a new version.")

EVERYONE = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)

_REMOVABLE = ("balance_cap_minutes", "redemption_min_age", "expiry_months")


def read_rules_file(path: Path) -> dict[str, Any]:
    """The changes a rules file states; a clear error for a file that is not one."""
    try:
        stated = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise typer.BadParameter(f"{path} is not TOML: {error}") from None
    for name in _REMOVABLE:
        if stated.get(name) is False:
            stated[name] = None
    return stated


def _proposed(base: Rules, path: Path) -> Rules:
    try:
        return base.changed(read_rules_file(path))
    except TimebankError as error:
        raise typer.BadParameter(f"{path}: {error}") from None
    except TypeError as error:  # a rule of the wrong kind: a text where a number goes
        raise typer.BadParameter(f"{path}: {error}") from None


@app.command()
def show(
    output: Annotated[
        Literal["table", "json"], typer.Option("--format", help="table or json.")
    ] = "table",
) -> None:
    """The rules in force today and every version adopted, with who adopted it and why."""
    with opened() as views:
        versions = views.reader.policy_versions()
        today = views.ledger.today()
        adopters = {v.adopted_by: _adopter(views.reader, v.adopted_by) for v in versions}
    in_force = max((v.version for v in versions if v.effective_on <= today), default=0)
    if output == "json":
        listed = [
            {
                "version": v.version,
                "in_force": v.version == in_force,
                "effective_on": v.effective_on.isoformat(),
                "rules": v.rules.as_dict(),
                "adopted_by": str(v.adopted_by),
                "adopted_by_name": adopters[v.adopted_by],
                "reason": v.reason,
            }
            for v in versions
        ]
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    table = Table("version", "from", "rules", "adopted by", "why", title="The community's rules")
    for v in versions:
        mark = " (in force)" if v.version == in_force else ""
        table.add_row(
            f"{v.version}{mark}",
            v.effective_on.isoformat(),
            _rules_text(v.rules),
            adopters[v.adopted_by],
            v.reason,
        )
    Console().print(table)


def _adopter(reader: Reader, member_id: UUID) -> str:
    if member_id == SYSTEM_ACTOR_ID:
        return "the operator (system)"
    try:
        return reader.profile(EVERYONE, member_id).name
    except NotFoundError:
        return str(member_id)


@app.command()
def adopt(
    file: Annotated[Path, typer.Argument(help="A TOML file of the rules that change.")],
    reason: Annotated[str, typer.Option(help="Why, for the record (required).")],
    effective: Annotated[
        str | None, typer.Option(help="From this day, YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Adopt a new version of the rules from the operator's terminal (as the system)."""
    day = _day(effective)
    changes = read_rules_file(file)
    with opened() as views:
        try:
            adopted = views.ledger.adopt_policy(
                actor_id=SYSTEM_ACTOR_ID, changes=changes, effective_on=day, reason=reason
            )
        except TimebankError as error:
            typer.echo(f"not adopted: {error}", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"version {adopted.version} adopted, in force from {adopted.effective_on}: "
        f"{_rules_text(adopted.rules)}"
    )


def what_if(
    file: Annotated[
        Path, typer.Argument(help="A TOML file of proposed rules (only those that change).")
    ],
    output: Annotated[
        Literal["table", "json"], typer.Option("--format", help="table or json.")
    ] = "table",
) -> None:
    """Replay the whole history under proposed rules, writing nothing: who would be over
    the cap, what would have expired, whose star level would change, which decisions
    would have been refused."""
    with opened() as views:
        proposed = _proposed(views.ledger.rules_in_force().rules, file)
        report = replay_under(views.ledger, proposed)
    if output == "json":
        typer.echo(json.dumps(_as_json(report, proposed), ensure_ascii=False, indent=2))
        return
    _print_report(report, proposed)


def _print_report(report: WhatIf, proposed: Rules) -> None:
    console = Console()
    console.print(f"Replayed {report.events} events under: {_rules_text(proposed)}")
    summary = Table("what would differ", "how many", title="What if")
    for kind, count in sorted(report.refused.items()):
        summary.add_row(f"decisions refused: {kind.replace('_', ' ')}", str(count))
    summary.add_row("members over the cap today", str(len(report.over_cap)))
    summary.add_row("minutes that would have expired", str(report.expired_minutes))
    summary.add_row("members who would have lost minutes", str(len(report.expired)))
    summary.add_row("star levels that change", str(len(report.star_changes)))
    console.print(summary)
    if report.star_changes:
        stars = Table("member", "stars today", "under the proposal", title="Star levels")
        for change in report.star_changes[:20]:
            stars.add_row(change.name, str(change.before), str(change.after))
        console.print(stars)
    if report.refusals:
        refused = Table("position", "kind", "member", "minutes", "day", title="First refusals")
        for r in report.refusals[:20]:
            refused.add_row(str(r.position), r.kind, r.name, str(r.minutes), str(r.day))
        console.print(refused)


def _as_json(report: WhatIf, proposed: Rules) -> dict[str, Any]:
    def change(c: Any) -> dict[str, Any]:
        return {"member_id": str(c.member_id), "name": c.name, "before": c.before, "after": c.after}

    return {
        "events": report.events,
        "proposed": proposed.as_dict(),
        "refused": dict(report.refused),
        "refusals": [
            {
                "position": r.position,
                "kind": r.kind,
                "member_id": str(r.member_id),
                "name": r.name,
                "minutes": r.minutes,
                "day": None if r.day is None else r.day.isoformat(),
            }
            for r in report.refusals
        ],
        "over_cap": [change(c) for c in report.over_cap],
        "expired_minutes": report.expired_minutes,
        "expired": [change(c) for c in report.expired],
        "star_changes": [change(c) for c in report.star_changes],
    }


def _rules_text(rules: Rules) -> str:
    cap = rules.balance_cap_minutes
    parts = [
        f"cap {cap} min" if cap is not None else "no cap",
        f"daily limit {rules.daily_limit_minutes} min",
        f"redeem from age {rules.redemption_min_age}"
        if rules.redemption_min_age is not None
        else "redeem at any age",
        "hardship exception" if rules.hardship_exception else "",
        f"expire after {rules.expiry_months} months" if rules.expiry_months else "no expiry",
        "stars at " + "/".join(str(h) for h in rules.star_ladder_hours) + " h",
        f"{rules.organisation} ({rules.certificate_prefix})",
    ]
    return "; ".join(part for part in parts if part)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_date("--effective", text)
    except TimebankError as error:
        raise typer.BadParameter(str(error), param_hint="--effective") from None


def expire() -> None:
    """Expire every member's minutes that are due (the server's writer does it each hour;
    a command on an account does it for that account anyway)."""
    with opened() as views:
        expired = sweep(views.runner)
    typer.echo(f"{expired} minutes expired")
