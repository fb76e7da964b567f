"""The scale curves as a script: ``python bench/scale_curves.py all [--full]`` — the same as
``python -m yulian.bench.scale`` (see docs/benchmarks.md)."""

from __future__ import annotations

import sys

from yulian.bench.scale import main

if __name__ == "__main__":
    sys.exit(main())
