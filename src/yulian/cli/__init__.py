"""The ``yulian`` command line."""
