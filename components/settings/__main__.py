"""`python -m components.settings check Pulumi.<stack>.yaml ...` (see check.py)."""

import sys

from components.settings.check import main

sys.exit(main(sys.argv[1:]))
