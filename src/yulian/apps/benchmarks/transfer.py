# mypy: ignore-errors
"""transfer: balances moved between accounts (read-modify-write), for ``yulian bench``.

An account is a key ``acct/<name>`` holding an integer balance. ``open_account`` creates one
account (``open`` is a reserved name in the dialect); ``open_range`` creates ``count`` accounts
named ``<prefix><first>`` .. ``<prefix><first+count-1>`` in one call (how a bench network
pre-populates 10k to 1M keys of state). ``transfer`` moves
``amount`` from ``src`` to ``dst``; an amount above the balance reverts, so the total of all
balances never changes.
"""

MAX_NAME_LEN = 64
MAX_AMOUNT = 1_000_000_000_000_000_000
MAX_OPEN_RANGE = 20000


def open_account(ctx, account, amount):
    _check_name(ctx, account)
    _check_amount(ctx, amount)
    key = "acct/" + account
    ctx.require(not ctx.state.has(key), "account exists")
    ctx.state.put(key, amount)
    return amount


def open_range(ctx, prefix, first, count, amount):
    ctx.require(isinstance(prefix, str) and len(prefix) <= 16, "prefix must be a short string")
    ctx.require(isinstance(first, int) and 0 <= first < 10**9, "first must be 0..10**9")
    ctx.require(isinstance(count, int) and 0 < count <= MAX_OPEN_RANGE, "count must be 1..20000")
    _check_amount(ctx, amount)
    for i in range(first, first + count):
        ctx.state.put("acct/" + prefix + str(i), amount)
    return count


def transfer(ctx, src, dst, amount):
    _check_name(ctx, src)
    _check_name(ctx, dst)
    _check_amount(ctx, amount)
    ctx.require(src != dst, "src and dst must differ")
    src_key = "acct/" + src
    dst_key = "acct/" + dst
    src_balance = ctx.state.get(src_key)
    dst_balance = ctx.state.get(dst_key)
    ctx.require(src_balance is not None, "no account " + src)
    ctx.require(dst_balance is not None, "no account " + dst)
    ctx.require(src_balance >= amount, "insufficient balance")
    ctx.state.put(src_key, src_balance - amount)
    ctx.state.put(dst_key, dst_balance + amount)
    return src_balance - amount


def balance(ctx, account):
    _check_name(ctx, account)
    value = ctx.state.get("acct/" + account)
    ctx.require(value is not None, "no account " + account)
    return value


def _check_name(ctx, name):
    ctx.require(isinstance(name, str) and 0 < len(name) <= MAX_NAME_LEN, "bad account name")


def _check_amount(ctx, amount):
    ctx.require(
        isinstance(amount, int) and not isinstance(amount, bool) and 0 <= amount <= MAX_AMOUNT,
        "amount must be an integer 0..10**18",
    )
