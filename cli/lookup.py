"""Finding members and teams by id or by name, as people type them at a terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from uuid import UUID

from projections.queries import Reader


class NotFoundByNameError(ValueError):
    """No such member or team, or the name fits several."""


def find(kind: str, text: str, names: Iterable[tuple[UUID, str]]) -> UUID:
    """The one id whose id or exact name is `text`."""
    pairs = list(names)
    try:
        wanted = UUID(text)
    except ValueError:
        # Names are kept in Unicode NFC (timebank.rules): compare the typed name so too.
        typed = unicodedata.normalize("NFC", text.strip())
        matches = [ident for ident, name in pairs if name == typed]
    else:
        matches = [ident for ident, _ in pairs if ident == wanted]
    if not matches:
        raise NotFoundByNameError(f"no {kind} {text!r}")
    if len(matches) > 1:
        raise NotFoundByNameError(f"{len(matches)} {kind}s are named {text!r}: use the id")
    return matches[0]


def find_member(reader: Reader, text: str, *, team_id: UUID | None = None) -> UUID:
    """A member by id or exact name (among a team's members, with `team_id`)."""
    return find("member", text, ((m.id, m.name) for m in reader.member_names(team_id=team_id)))


def find_team(reader: Reader, text: str) -> UUID:
    return find("team", text, ((t.id, t.name) for t in reader.team_names()))
