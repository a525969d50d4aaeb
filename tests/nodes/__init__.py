"""The nodes tier (a package, so its test modules may share basenames with other tiers')."""
