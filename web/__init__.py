"""Server-rendered pages over the same ledger, reads and rules as the JSON API."""
