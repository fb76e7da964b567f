"""Introduction: the cost model — every step rate and hard cap of the sandbox in one table.

A step is the unit of the budget a transaction may spend (``ChainParams.step_limit``). The
rates below say how much work or memory one step buys; the caps bound what no budget can buy.
``docs/contracts.md`` states them as a table, and ``yulian.bench.worstcase`` measures, for each
charged operation, the worst time and memory per step on inputs chosen against it.

Invariant: these numbers are consensus rules. Changing one changes the steps (and so the
receipts) of existing transactions; it is a chain upgrade, never a tuning knob.
"""

from __future__ import annotations

DEFAULT_STEP_LIMIT = 1_000_000
MAX_CALL_DEPTH = 64
CALL_STEPS = 1  # per function entry
LOOP_STEPS = 1  # per while iteration / per item pulled by an iteration
NODES_PER_STEP = 8  # straight-line syntax nodes of a block paid by one step
BYTES_PER_STEP = 32  # text and bytes created, scanned or compared
ITEMS_PER_STEP = 4  # container items created, scanned or compared
BITS_PER_STEP = 256  # integer arithmetic
MAX_INT_BITS = 2048
MAX_TEXT_INT_BITS = 2100  # <= 633 decimal digits, below the smallest int_max_str_digits (640)
MAX_STR_LEN = 1 << 20  # characters of one str / bytes of one bytes
MAX_CONTAINER_LEN = 1 << 18  # items of one list / tuple / dict built in bulk
MAX_NESTING = 32  # container depth for comparison, sorting and text conversion
MAX_FORMAT_WIDTH = 999  # width and precision in an f-string format spec (3 digits)
MAX_INT_TEXT_CHARS = 600  # int('...'): under CPython's smallest int_max_str_digits (640)
MAX_DECIMAL_TEXT_CHARS = 1000
MAX_DECIMAL_INT_DIGITS = 600  # int(Decimal): at most ~2000 bits
