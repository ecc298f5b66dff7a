"""Read models of the ledger: each a fold of its events, fed by a thin runner."""
