"""`python -m cli` runs the `timebank` command."""

from cli.main import main

main()
