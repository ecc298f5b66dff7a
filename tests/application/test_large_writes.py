"""A large write on PostgreSQL: an import of thousands of paper records is stored whole.

psycopg's pipeline mode hung on a write this large (see timebank.postgres). The import runs
in a process of its own, killed if it has not ended in time (which also ends its
connection and the table lock it holds), so that the test fails rather than hangs.
"""

from __future__ import annotations

import multiprocessing

import pytest

from tests import workers
from tests.support import build_community, event_count, open_ledger
from timebank.postgres import PIPELINED_BYTES

pytestmark = pytest.mark.postgres

ROWS = 5_000  # as tests.workers.import_paper_records enters them
FINISHES_WITHIN = 300.0  # seconds: it takes about two on an idle machine


def test_an_import_of_five_thousand_records_is_stored_whole(postgres_url: str) -> None:
    app = open_ledger(postgres_url)
    try:
        c = build_community(app)
        before = event_count(app)
        importing = multiprocessing.get_context("spawn").Process(
            target=workers.import_paper_records,
            args=(postgres_url,),
            kwargs={
                "coordinator": str(c.care_coordinator),
                "team": str(c.care_team),
                "volunteers": [str(c.li), str(c.wang)],
            },
        )
        importing.start()
        importing.join(FINISHES_WITHIN)
        if importing.is_alive():
            importing.kill()
            importing.join()
            pytest.fail(f"the import did not end within {FINISHES_WITHIN:.0f} s")

        assert importing.exitcode == 0
        stored = app.recorder.select_notifications(start=before + 1, limit=4 * ROWS)
        assert len(stored) == 3 * ROWS + 1  # each row logged, approved and earned; the import
        assert sum(len(n.state) for n in stored) > PIPELINED_BYTES  # the write this is about
        assert app.get_account(c.li).balance_minutes == ROWS // 2 * 30
        assert app.get_account(c.wang).balance_minutes == ROWS // 2 * 30
    finally:
        app.close()
