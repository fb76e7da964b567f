# A counter: the smallest useful contract, the one the README's governance walkthrough deploys.
#
#   yulian contract propose counter 1.0 --code examples/counter.py --org org1
#   yulian tx send counter incr '[5]'          # -> 5
#   yulian query counter get                   # -> 5
#
# Contracts are Python in a restricted dialect (docs/contracts.md): module-level functions
# that take the host API `ctx` first; state lives under the contract's name.


def incr(ctx, by):
    ctx.require(isinstance(by, int) and 0 < by <= 1000, "by must be an integer in 1..1000")
    value = ctx.state.get("count", 0) + by
    ctx.state.put("count", value)
    ctx.emit("counted", {"by": by, "value": value, "org": ctx.sender.org})
    return value


def get(ctx):
    return ctx.state.get("count", 0)
