"""`python -m bench`: run the benchmarks and write BENCHMARKS.md."""

from bench.run import main

raise SystemExit(main())
