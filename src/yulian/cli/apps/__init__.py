"""Application command groups: one module per reference application (evidence, trace,
finance, credentials, trading) and one for private data.

``yulian.cli.main`` registers every module of this package that defines
``register(app: typer.Typer)``, in name order, so an application adds a module here and no
line anywhere else. Each module builds on ``yulian.cli.common`` like the core groups do, and
on ``yulian.cli.apps.common`` for what only the application groups share: the ``signed`` and
``reading`` command declarations with their option block, the ``deploy`` command, and a
contract's refusal as exit code 3. ``common`` defines no ``register``, so it adds no group.
"""
