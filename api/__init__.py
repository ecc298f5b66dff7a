"""The HTTP API of the time bank (FastAPI), over the ledger and its projections."""
