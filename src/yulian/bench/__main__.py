"""``python -m yulian.bench`` — the same as ``yulian bench``."""

import sys

from yulian.bench.runner import main

sys.exit(main())
