"""``python -m lab.harbor_double``: see cli.py."""

import sys

from lab.harbor_double.cli import main

sys.exit(main())
