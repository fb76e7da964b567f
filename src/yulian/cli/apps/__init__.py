"""Application command groups: one module per reference application (``evidence`` today).

``yulian.cli.main`` registers every module of this package that defines
``register(app: typer.Typer)``, in name order, so an application adds a module here and no
line anywhere else. Each module builds on ``yulian.cli.common`` like the core groups do.
"""
