"""`python -m bench` (`make bench`): the long benchmarks; see bench/README.md."""

import sys

from bench.run import main

sys.exit(main())
