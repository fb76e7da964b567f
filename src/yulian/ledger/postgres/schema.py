"""The tables of the PostgreSQL ledger backend, in one schema per ledger.

Introduction
------------
Every statement here runs with ``search_path`` set to the ledger's schema, so one server (or
one database) can hold the ledgers of several nodes side by side. The tables mirror the
``Ledger`` interface one to one; byte strings are ``bytea`` (compared bytewise, as LMDB keys
are), heights ``bigint``. Contract and event names are ``bytea`` too (their UTF-8): a name may
hold a NUL character, which ``text`` cannot, and the ledger must store whatever a committed
block holds. The operators' views (``views.py``) present them as text.

==========  ====================================================  ============================
table       columns                                               keys and indexes
==========  ====================================================  ============================
ledger      name, value (text)                                    ``format`` = ``FORMAT_TAG``
head        one row: height, hash, state_root, state_sum, floor   —
blocks      height, hash, block, commit, state_root, tx_count     PK height; UNIQUE hash
txs         tx_id, height, tx_index, receipt (NULL: not held)     PK tx_id; UNIQUE (height, i)
events      height, tx_index, event_index, tx_id, contract,       PK cursor; (contract, cursor);
            name, key, payload                                    (contract, name, cursor)
state       key, value                                            PK key
history     key, height, value (NULL: deleted)                    PK (key, height)
meta        name (text), value                                    PK name
==========  ====================================================  ============================
"""

from __future__ import annotations

FORMAT_TAG = "yulian-ledger-postgres/2"
#: What to do about a ledger an older release wrote (as for LMDB, ``lmdb/codec.py``).
OLD_FORMATS = {
    "yulian-ledger-postgres/1": "its chain's state roots follow the rule of an earlier release "
    "(a hash chained over each block's writes), which this release does not compute, so the "
    "chain cannot continue here: keep running that release for this chain, or start a new "
    "chain with this one",
}
#: Tables the ledger owns in its schema (anything else there means the schema is not ours).
TABLES = ("ledger", "head", "blocks", "txs", "events", "state", "history", "meta")

CREATE_TABLES = """
CREATE TABLE ledger (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE head (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    height bigint NOT NULL,
    hash bytea NOT NULL,
    state_root bytea NOT NULL,
    state_sum bytea NOT NULL,
    floor bigint NOT NULL
);
CREATE TABLE blocks (
    height bigint PRIMARY KEY,
    hash bytea NOT NULL UNIQUE,
    block bytea NOT NULL,
    commit bytea NOT NULL,
    state_root bytea NOT NULL,
    tx_count integer NOT NULL
);
CREATE TABLE txs (
    tx_id bytea PRIMARY KEY,
    height bigint NOT NULL,
    tx_index integer NOT NULL,
    receipt bytea,
    UNIQUE (height, tx_index)
);
CREATE TABLE events (
    height bigint NOT NULL,
    tx_index integer NOT NULL,
    event_index integer NOT NULL,
    tx_id bytea NOT NULL,
    contract bytea NOT NULL,
    name bytea NOT NULL,
    key bytea NOT NULL,
    payload bytea NOT NULL,
    PRIMARY KEY (height, tx_index, event_index)
);
CREATE INDEX events_by_contract ON events (contract, height, tx_index, event_index);
CREATE INDEX events_by_name ON events (contract, name, height, tx_index, event_index);
CREATE TABLE state (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE history (
    key bytea NOT NULL,
    height bigint NOT NULL,
    value bytea,
    PRIMARY KEY (key, height)
);
CREATE TABLE meta (name text PRIMARY KEY, value bytea NOT NULL);
INSERT INTO head (height, hash, state_root, state_sum, floor) VALUES (0, '', '', '', 1);
"""
