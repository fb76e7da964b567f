"""Reference applications: a contract each, with its SDK helpers and CLI commands."""
