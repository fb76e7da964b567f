"""``yulian bench`` as a script (the same options; see docs/benchmarks.md).

.venv/bin/python bench/yulian_bench.py --validators 4 --workload transfer --test stress
.venv/bin/python -m bench.yulian_bench --micro
"""

from __future__ import annotations

import sys

from yulian.bench.command import main

if __name__ == "__main__":
    sys.exit(main())
