"""Old name of components/settings, kept so `python -m components.config check Pulumi.<stack>.yaml` still works.

Docs and scripts use `python -m components.settings check`; this alias only forwards to it. New code imports
from `components.settings`.
"""

import sys

from components.settings.check import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
