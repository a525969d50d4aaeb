"""The e2e tier (a package, so its test modules may share basenames with other tiers')."""
