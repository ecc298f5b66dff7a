"""The community's rules: read by every member, adopted by admins, tried first with "what
if" by admins and auditors."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, AuditingViewer, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import (
    AdoptPolicyIn,
    MemberChangeOut,
    PolicyOut,
    PolicyVersionOut,
    RefusalOut,
    RulesIn,
    RulesOut,
    WhatIfOut,
)
from projections.what_if import replay_under
from timebank.policies import PolicyVersion, Rules

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/policy",
    tags=["rules"],
    responses=error_responses(401, 403, 413, 422, 503),
)


def _rules(rules: Rules) -> RulesOut:
    return RulesOut.model_validate(rules.as_dict())


@router.get("", summary="Read the rules in force and every version adopted (any member)")
def get_policy(reader: Reads, viewer: ViewerOf) -> PolicyOut:
    """The balance cap, the minimum age for redeeming, the daily limit, the star ladder,
    expiry and the issuing organisation: each version with the day it took effect, who
    adopted it and why."""
    versions = [
        PolicyVersionOut(
            version=v.version,
            effective_on=v.effective_on,
            rules=_rules(v.rules),
            adopted_by=v.adopted_by,
            adopted_at=v.adopted_at,
            reason=v.reason,
        )
        for v in reader.policy_versions()
    ]
    today = reader.today()
    in_force = next(
        (v for v in reversed(versions) if v.effective_on <= today),
        versions[0] if versions else None,
    )
    if in_force is None:  # a ledger that has stored nothing yet: the defaults decide
        in_force = PolicyVersionOut(
            version=0,
            effective_on=today,
            rules=_rules(Rules()),
            adopted_by=viewer.id,
            reason="the ledger's defaults (no command has stored its rules yet)",
        )
    return PolicyOut(in_force=in_force, versions=versions)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
    summary="Adopt a new version of the rules (admins)",
)
def adopt_policy(
    body: AdoptPolicyIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> PolicyVersionOut:
    """From today or a later day (never a past one, nor before the latest version's day),
    saying why; only the rules given change. Decisions already made keep the version that
    made them; try the change first with `POST /policy/what-if`."""
    adopted: PolicyVersion = ledger.adopt_policy(
        actor_id=actor_id,
        changes=body.rules.changes(),
        effective_on=body.effective_on,
        reason=body.reason,
        request_id=request_id,
    )
    return PolicyVersionOut(
        version=adopted.version,
        effective_on=adopted.effective_on,
        rules=_rules(adopted.rules),
        adopted_by=adopted.adopted_by,
        reason=adopted.reason,
    )


@router.post(
    "/what-if",
    summary="Replay the history under proposed rules, writing nothing (admins, auditors)",
)
def what_if(body: RulesIn, ledger: Ledger, viewer: AuditingViewer) -> WhatIfOut:
    """Every credit, gift and redemption decided again as if the proposed rules (the rules
    in force, with the ones given changed) had always been in force: which members would
    be over the cap, which minutes would have expired by today, whose star level would
    change, and how many decisions would have been refused, with the first examples."""
    proposed = ledger.rules_in_force().rules.changed(body.changes())
    report = replay_under(ledger, proposed)
    return WhatIfOut(
        events=report.events,
        proposed=_rules(proposed),
        refused=dict(report.refused),
        refusals=[RefusalOut.model_validate(r) for r in report.refusals],
        over_cap=[MemberChangeOut.model_validate(c) for c in report.over_cap],
        expired_minutes=report.expired_minutes,
        expired=[MemberChangeOut.model_validate(c) for c in report.expired],
        star_changes=[MemberChangeOut.model_validate(c) for c in report.star_changes],
    )
