"""The `timebank` command line."""
