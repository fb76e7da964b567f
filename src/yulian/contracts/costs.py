"""Introduction: the cost model — every step rate and hard cap of the sandbox in one table.

A step is the unit of the budget a transaction may spend (``ChainParams.step_limit``). The
rates below say how much work or memory one step buys; the caps bound what no budget can buy.
Each charge covers its operation's *worst* case, by the sizes that drive the algorithm CPython
really runs (a backward search is charged haystack × needle; converting an int between binary
and decimal, its bits squared), and every value a contract creates is charged by its size.
``docs/contracts.md`` states the table; ``yulian.bench.worstcase`` measures, for every charged
operation, the worst time and memory per step on inputs chosen against it.

Invariant: these numbers are consensus rules. Changing one changes the steps (and so the
receipts) of existing transactions; it is a chain upgrade, never a tuning knob.
"""

from __future__ import annotations

DEFAULT_STEP_LIMIT = 1_000_000

# --- the interpreter: calls, loops, straight-line code ----------------------------------------
MAX_CALL_DEPTH = 64
CALL_STEPS = 2  # per function entry: a frame, the depth bookkeeping, the arguments
LOOP_STEPS = 1  # per while iteration / per item pulled by an iteration
NODES_PER_STEP = 8  # syntax units of a block paid by one step (see NODE_UNITS)
# Syntax nodes that do more than a name load behind one node: units each, instead of 1.
NODE_UNITS: dict[str, int] = {
    "Attribute": 3,  # the attribute guard; a bound method is a fresh object
    "Call": 3,  # an argument tuple, a C or guard call
    "Subscript": 2,  # the item guard
    "Compare": 2,  # a guarded comparison
    "BinOp": 2,  # a guarded operator
    "FormattedValue": 3,  # a conversion to text
    "Dict": 16,  # a fresh dict: ~200 bytes before its first key
    "DictComp": 16,
    "ListComp": 4,
    "List": 2,
    "Tuple": 2,
    "FunctionDef": 24,  # a nested def makes a function object and its closure cells
}
CHAINED_COMPARE_UNITS = 8  # per comparison after the first: a thunk made and called
TEXT_CONSTANT_CHARS_PER_UNIT = 4  # the constant parts of an f-string are copied each time

# --- sizes: bytes, items, bits ----------------------------------------------------------------
BYTES_PER_STEP = 32  # text and bytes created, scanned or compared
WIDE_CHAR_BYTES = 4  # a str with any non-ASCII char is charged as if every char took 4 bytes
ITEMS_PER_STEP = 4  # container items created, scanned or compared
FRESH_OBJECT_STEPS = 1  # per fresh object in a bulk result (the items of split, zip, a range)
METHOD_FETCH_STEPS = 1  # ``x.append``: a bound method made for the value
BUILTIN_STEPS = 2  # max(), min(), sorted(): their set-up in Python, whatever the size
FORMAT_SPEC_STEPS = 3  # an f-string field with a format spec: parsed, checked, applied
TYPE_CHECKS_PER_STEP = 2  # the types of an isinstance() tuple
EXPORT_NODES_PER_STEP = 1  # values crossing the host boundary: walked, copied, (de)coded
WALK_ITEMS_PER_STEP = 2  # container items walked before a comparison, sort or conversion
BITS_PER_STEP = 256  # integer arithmetic, linear part
FREE_INT_BITS = 255  # an int result up to this size is paid by the operation's own units
DECIMAL_STEPS = 1  # per Decimal an operation makes (~100 bytes, a context operation)

# --- the host: calls between contracts, ordered scans, composite keys ------------------------
CONTRACT_CALL_STEPS = 100  # ctx.call / ctx.try_call: resolve, a journal, a callee environment
CALL_COPIES = 2  # the arguments and the value of a call pay their export this many times
MAX_CONTRACT_CALL_DEPTH = 8  # contracts running at once in one transaction, the first included
MAX_CALLED_CONTRACTS = 16  # distinct contracts one transaction's calls reach (each compiled once)
SCAN_STEPS = 30  # ctx.state.scan / range: a seek into every layer of the state
SCAN_ENTRY_STEPS = 10  # per key examined: read, merged over the layers, compared, decoded
KEY_PART_STEPS = 1  # ctx.key / ctx.split_key, per part

# --- caps no budget can buy -------------------------------------------------------------------
MAX_INT_BITS = 2048
MAX_TEXT_INT_BITS = 2100  # <= 633 decimal digits, below the smallest int_max_str_digits (640)
MAX_STR_LEN = 1 << 20  # characters of one str / bytes of one bytes
MAX_CONTAINER_LEN = 1 << 18  # items of one list / tuple / dict built in bulk
MAX_NESTING = 32  # container depth for comparison, sorting and text conversion
MAX_FORMAT_WIDTH = 999  # width and precision in an f-string format spec (3 digits)
MAX_INT_TEXT_CHARS = 600  # int('...'): under CPython's smallest int_max_str_digits (640)
MAX_DECIMAL_TEXT_CHARS = 1000
MAX_DECIMAL_INT_DIGITS = 600  # int(Decimal): at most ~2000 bits
MAX_RANGE_BITS = 63  # range() bounds and enumerate() starts: every item a machine-size int
MAX_DECIMAL_EXPONENT_BITS = 64

# --- algorithms whose cost is not linear in their input ---------------------------------------
SEARCH_UNITS_PER_STEP = 512  # character comparisons of a text search loop
# CPython's forward search (Objects/stringlib/fastsearch.h, 3.10 to 3.13) compares up to
# needle-length chars per haystack position only while the haystack left is shorter than
# these; beyond them it runs the two-way algorithm, which is linear.
FORWARD_NAIVE_HAYSTACK_LONG_NEEDLE = 2_500
FORWARD_NAIVE_HAYSTACK_SHORT_NEEDLE = 30_000
FORWARD_SHORT_NEEDLE = 100
CONVERSION_BITS = 128  # binary <-> decimal conversion: (bits / 128) ** 2 / 2 steps
CONVERSION_FREE_BITS = 64
PRODUCT_BITS_PER_STEP = 65536  # bits times bits of a schoolbook multiplication or division
DECIMAL_TO_INT_FACTOR = 2  # int(Decimal) converts through a slower path than str()


def text_units(n: int, wide: bool) -> int:
    """What a str of ``n`` chars (``wide``: not all ASCII) or bytes of ``n`` costs to hold."""
    return n * WIDE_CHAR_BYTES if wide else n


def search_steps(haystack: int, needle: int, backward: bool) -> int:
    """Searching a needle of ``needle`` units in ``haystack`` units, over every call a method
    makes: linear work, plus the naive loop's comparisons where CPython runs it (always
    backwards; forwards only for short needles or the last few thousand chars)."""
    steps = (haystack + needle) // BYTES_PER_STEP
    if needle <= 1 or needle > haystack:
        return steps
    if backward or needle < 6:
        naive = haystack
    elif needle < FORWARD_SHORT_NEEDLE:
        naive = min(haystack, FORWARD_NAIVE_HAYSTACK_SHORT_NEEDLE)
    else:
        naive = min(haystack, FORWARD_NAIVE_HAYSTACK_LONG_NEEDLE)
    return steps + naive * needle // SEARCH_UNITS_PER_STEP


def conversion_steps(bits: int) -> int:
    """Converting an int of ``bits`` between binary and decimal (``str``, ``int('...')``,
    ``Decimal(n)``, ``n == Decimal``): CPython and libmpdec do it in quadratic time."""
    if bits <= CONVERSION_FREE_BITS:
        return 1
    scaled = bits // CONVERSION_BITS
    return 1 + scaled * scaled // 2


# conversion_steps by bits // CONVERSION_BITS, for walks that meet many ints
CONVERSION_TABLE = tuple(1 + k * k // 2 for k in range(MAX_TEXT_INT_BITS // CONVERSION_BITS + 2))


def int_steps(bits: int) -> int:
    """A fresh int of ``bits``: its memory (32 bytes per step)."""
    return bits // BITS_PER_STEP


def product_steps(bits_a: int, bits_b: int) -> int:
    """Multiplying or dividing ints of these sizes (schoolbook: the product of the sizes);
    the result's memory is charged apart (``int_steps``)."""
    return bits_a * bits_b // PRODUCT_BITS_PER_STEP
