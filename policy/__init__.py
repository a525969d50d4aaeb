"""harbor-cache's CrossGuard policy pack; the policies live in `policy.policies` (docs/policy.md)."""
