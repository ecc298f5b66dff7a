"""`timebank token issue|revoke`: a member's bearer tokens, from the operator's terminal."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from api.settings import Settings
from cli.lookup import NotFoundByNameError, find_member
from cli.views import opened
from timebank.application import SYSTEM_ACTOR_ID
from timebank.errors import TimebankError

app = typer.Typer(help="Issue and revoke members' bearer tokens.", no_args_is_help=True)


@app.command()
def issue(
    member: Annotated[str, typer.Argument(help="The member's id or exact name.")],
) -> None:
    """Issue a member a new token and print it, once (a lost phone, a second device)."""
    with opened() as views:
        try:
            member_id = find_member(views.reader, member)
        except NotFoundByNameError as error:
            raise typer.BadParameter(str(error), param_hint="MEMBER") from None
        issued = views.ledger.issue_token(actor_id=SYSTEM_ACTOR_ID, member_id=member_id)
    typer.echo(f"credential {issued.credential_id} for member {member_id}")
    typer.echo(f"token (shown once; the ledger keeps only its digest): {issued.token}")


@app.command()
def revoke(
    credential: Annotated[UUID, typer.Argument(help="The credential id printed at issue.")],
    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
) -> None:
    """Revoke a token at once: it stops signing anyone in."""
    ledger = Settings().open_ledger()
    try:
        revoked = ledger.revoke_token(
            actor_id=SYSTEM_ACTOR_ID, credential_id=credential, reason=reason
        )
    except TimebankError as error:
        typer.echo(f"not revoked: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    typer.echo(f"credential {revoked.id} of member {revoked.member_id} is {revoked.status}")
