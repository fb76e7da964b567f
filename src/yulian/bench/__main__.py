"""``python -m yulian.bench`` — the same as ``yulian bench``."""

import sys

from yulian.bench.command import main

sys.exit(main())
