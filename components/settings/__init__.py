"""Stack settings: one validated model for the whole stack, loaded from Pulumi config or a stack file.

Where things are:

* sections.py: one pydantic model per stack-file key (harbor, tls, upstream, proxyProject, ...), nodes.py
  for the `nodes` key;
* model.py: `Settings`, the whole stack, and the checks that span sections;
* derived.py: values derived from the settings (node endpoint, external and API URLs, image prefix, ...);
* rewrite.py: whether image rewrite can work with the node settings;
* loading.py: reading Pulumi config or a stack file, the secrets check, `validate` and `SettingsError`;
* check.py: `python -m components.settings check Pulumi.<stack>.yaml`, the offline check.

The patterns and parsers the settings share with the providers and renderers are in components/rules.py.
Validation runs once, before any resource exists, and every error names the config key, what is wrong and how
to fix it.
"""

from components.settings.loading import (
    OBJECT_KEYS,
    SCALAR_KEYS,
    SECRET_KEYS,
    SettingsError,
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
    "Settings",
    "SettingsError",
    "load_from_pulumi",
    "load_stack_file",
    "validate",
]
