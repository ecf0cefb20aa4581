"""`python -m siaga ...`: the `siaga` command of this checkout (make demo, the tests)."""

import sys

from siaga.cli import main

sys.exit(main())
