"""Benchmarks of the ledger side by side with the library floor and the framework floor."""
