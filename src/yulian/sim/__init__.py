"""Introduction: ``yulian.sim`` — the real replicas under a seeded network, clock and disk."""
