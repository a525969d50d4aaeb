"""Stack settings: one validated model for the whole stack, loaded from Pulumi config or a stack file.

Where things are:

* types.py: the field types, each applying one rule of components/rules.py (and how lax each scalar is);
* base.py, harbor.py, sections.py, nodes.py: one pydantic model per stack-file key (harbor, tls, upstream,
  proxyProject, ..., nodes);
* model.py: `Settings`, the whole stack, and the checks that span sections;
* derived.py: values derived from the settings (node endpoint, external and API URLs, image prefix, ...);
* rewrite.py: whether image rewrite can work with the node settings;
* stackfile.py: reading a Pulumi.<stack>.yaml as Pulumi does (YAML errors name the file and line);
* secrets.py: the secrets set as secrets, and their values checked at deploy time;
* warnings.py: what passes but a receiver may still refuse or ignore (logged by the program, printed by check);
* loading.py: `validate`, `check_settings` (settings and warnings), `load_from_pulumi`, `SettingsError`;
* check.py: `python -m components.settings check Pulumi.<stack>.yaml ...`, the offline check.

The patterns and parsers the settings share with the providers and renderers are in components/rules.py.
Validation runs once, before any resource exists, and every error names the config key, what is wrong and how
to fix it. docs/settings.md lists every setting, its receiver, the rule applied and the test that pins it.
"""

from components.settings.loading import (
    OBJECT_KEYS,
    SCALAR_KEYS,
    SECRET_KEYS,
    Loaded,
    SettingsError,
    StackFileError,
    check_settings,
    load_from_pulumi,
    load_stack_file,
    validate,
)
from components.settings.model import NAMESPACE, Settings

__all__ = [
    "NAMESPACE",
    "OBJECT_KEYS",
    "SCALAR_KEYS",
    "SECRET_KEYS",
    "Loaded",
    "Settings",
    "SettingsError",
    "StackFileError",
    "check_settings",
    "load_from_pulumi",
    "load_stack_file",
    "validate",
]
