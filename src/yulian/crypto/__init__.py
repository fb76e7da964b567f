"""Hash and signature suites, Merkle trees, X.509 identities and membership."""
