"""The operators' SQL views of a PostgreSQL ledger: blocks, txs, events and contract state.

Introduction
------------
The ledger stores canonical msgpack bytes, as it receives them. These views decode them on
read, inside PostgreSQL, with a small PL/pgSQL msgpack decoder (``msgpack_at``): values come
out as ``jsonb`` in the API's JSON convention (bytes as ``{"$bytes": "<hex>"}``, maps with
text keys), so what an operator reads in SQL matches what ``GET /v1/state`` shows. Decoding
costs nothing at commit time; a value that does not decode shows as NULL, never an error.

=========  =====================================================================================
view       columns
=========  =====================================================================================
v_blocks   height, hash, time, proposer, tx_count, state_root, bytes
v_txs      tx_id, height, tx_index, contract, method, args, status, message, steps, result,
           events
v_events   height, tx_index, event_index, tx_id, contract, name, key, payload
v_state    contract, key, value, raw, height (the block that last wrote the key)
=========  =====================================================================================

Hashes and ids are lowercase hex text. The views run with the rights of their owner (the
ledger's role), so a role that may only ``SELECT`` them reads the chain without any right on
the tables (``grant_reader_sql``). See ``docs/storage.md`` for what that does and does not
protect.
"""

from __future__ import annotations

VIEWS = ("v_blocks", "v_txs", "v_events", "v_state")

#: ``@s@`` stands for the quoted schema name: a function calls the others by their
#: qualified name, so it works whatever the caller's ``search_path`` is.
CREATE_FUNCTIONS = r"""
CREATE FUNCTION be_uint(data bytea, pos integer, len integer) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    result numeric := 0;
BEGIN
    FOR i IN 0 .. len - 1 LOOP
        result := result * 256 + get_byte(data, pos + i);
    END LOOP;
    RETURN result;
END $$;

-- The msgpack value at byte offset pos (0-based) and the offset just after it.
CREATE FUNCTION msgpack_at(data bytea, pos integer, OUT value jsonb, OUT next integer)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    b integer := get_byte(data, pos);
    n bigint;
    head integer := 1;
    kind text;
    item jsonb;
    map_key jsonb;
    items jsonb[] := '{}';
    map_keys text[] := '{}';
BEGIN
    IF b <= 127 THEN value := to_jsonb(b); next := pos + 1; RETURN; END IF;
    IF b >= 224 THEN value := to_jsonb(b - 256); next := pos + 1; RETURN; END IF;
    IF b BETWEEN 160 AND 191 THEN kind := 'str'; n := b - 160;
    ELSIF b BETWEEN 144 AND 159 THEN kind := 'array'; n := b - 144;
    ELSIF b BETWEEN 128 AND 143 THEN kind := 'map'; n := b - 128;
    ELSIF b = 192 THEN value := 'null'::jsonb; next := pos + 1; RETURN;
    ELSIF b = 194 THEN value := 'false'::jsonb; next := pos + 1; RETURN;
    ELSIF b = 195 THEN value := 'true'::jsonb; next := pos + 1; RETURN;
    ELSIF b IN (196, 197, 198) THEN
        kind := 'bin'; head := 1 + (1 << (b - 196)); n := @s@.be_uint(data, pos + 1, head - 1);
    ELSIF b IN (217, 218, 219) THEN
        kind := 'str'; head := 1 + (1 << (b - 217)); n := @s@.be_uint(data, pos + 1, head - 1);
    ELSIF b IN (220, 221) THEN
        kind := 'array'; head := 1 + (2 << (b - 220)); n := @s@.be_uint(data, pos + 1, head - 1);
    ELSIF b IN (222, 223) THEN
        kind := 'map'; head := 1 + (2 << (b - 222)); n := @s@.be_uint(data, pos + 1, head - 1);
    ELSIF b BETWEEN 204 AND 207 THEN
        value := to_jsonb(@s@.be_uint(data, pos + 1, 1 << (b - 204)));
        next := pos + 1 + (1 << (b - 204)); RETURN;
    ELSIF b BETWEEN 208 AND 211 THEN
        n := 1 << (b - 208);
        value := to_jsonb(@s@.be_uint(data, pos + 1, n::integer)
                          - CASE WHEN get_byte(data, pos + 1) >= 128
                                 THEN 256::numeric ^ n ELSE 0 END);
        next := pos + 1 + n; RETURN;
    ELSE
        RAISE EXCEPTION 'msgpack: unsupported type byte % at %', b, pos;
    END IF;
    next := pos + head;
    IF kind = 'str' THEN
        value := to_jsonb(convert_from(substr(data, next + 1, n::integer), 'UTF8'));
        next := next + n;
    ELSIF kind = 'bin' THEN
        value := jsonb_build_object('$bytes', encode(substr(data, next + 1, n::integer), 'hex'));
        next := next + n;
    ELSIF kind = 'array' THEN
        FOR i IN 1 .. n LOOP
            SELECT m.value, m.next INTO item, next FROM @s@.msgpack_at(data, next) m;
            items := array_append(items, item);
        END LOOP;
        value := to_jsonb(items);
    ELSE
        FOR i IN 1 .. n LOOP
            SELECT m.value, m.next INTO map_key, next FROM @s@.msgpack_at(data, next) m;
            SELECT m.value, m.next INTO item, next FROM @s@.msgpack_at(data, next) m;
            map_keys := array_append(map_keys, map_key #>> '{}');
            items := array_append(items, item);
        END LOOP;
        value := coalesce(
            (SELECT jsonb_object_agg(k, v) FROM unnest(map_keys, items) AS kv(k, v)), '{}'
        );
    END IF;
END $$;

-- The whole of data as one msgpack value, or NULL when it is not exactly one.
CREATE FUNCTION msgpack_json(data bytea) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    decoded record;
BEGIN
    SELECT m.value, m.next INTO decoded FROM @s@.msgpack_at(data, 0) m;
    RETURN CASE WHEN decoded.next = length(data) THEN decoded.value END;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

-- The header of an encoded block [header, txs] as a JSON array, or NULL.
CREATE FUNCTION block_header(block bytea) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    IF get_byte(block, 0) <> 146 THEN RETURN NULL; END IF;
    RETURN (SELECT m.value FROM @s@.msgpack_at(block, 1) m);
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

-- The body of tx number i of an encoded block, decoded, or NULL: the txs are envelopes
-- [body, signature] (msgpack bin), and the body is the tx's own msgpack array.
CREATE FUNCTION block_tx_body(block bytea, i integer) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    pos integer;
    b integer;
    count bigint;
    len bigint;
    envelope bytea;
BEGIN
    IF get_byte(block, 0) <> 146 THEN RETURN NULL; END IF;
    SELECT m.next INTO pos FROM @s@.msgpack_at(block, 1) m;
    b := get_byte(block, pos);
    IF b BETWEEN 144 AND 159 THEN count := b - 144; pos := pos + 1;
    ELSIF b = 220 THEN count := @s@.be_uint(block, pos + 1, 2); pos := pos + 3;
    ELSIF b = 221 THEN count := @s@.be_uint(block, pos + 1, 4); pos := pos + 5;
    ELSE RETURN NULL; END IF;
    IF i >= count THEN RETURN NULL; END IF;
    FOR k IN 0 .. i LOOP
        b := get_byte(block, pos);
        IF b NOT IN (196, 197, 198) THEN RETURN NULL; END IF;
        len := @s@.be_uint(block, pos + 1, 1 << (b - 196));
        pos := pos + 1 + (1 << (b - 196));
        IF k = i THEN envelope := substr(block, pos + 1, len::integer); END IF;
        pos := pos + len;
    END LOOP;
    envelope := decode((@s@.msgpack_json(envelope) -> 0) ->> '$bytes', 'hex');
    RETURN @s@.msgpack_json(envelope);
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

-- UTF-8 bytes as text; bytes that are not valid text (e.g. a NUL) in escaped form.
CREATE FUNCTION utf8_text(data bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN convert_from(data, 'UTF8');
EXCEPTION WHEN OTHERS THEN
    RETURN encode(data, 'escape');
END $$;
"""

CREATE_VIEWS = r"""
CREATE VIEW v_blocks AS
SELECT b.height,
       encode(b.hash, 'hex') AS hash,
       to_timestamp((h.header ->> 3)::numeric / 1000) AS time,
       h.header ->> 10 AS proposer,
       b.tx_count,
       encode(b.state_root, 'hex') AS state_root,
       length(b.block) AS bytes
FROM blocks b
CROSS JOIN LATERAL (SELECT block_header(b.block) AS header) h;

CREATE VIEW v_txs AS
SELECT encode(t.tx_id, 'hex') AS tx_id,
       t.height,
       t.tx_index,
       x.body ->> 2 AS contract,
       x.body ->> 3 AS method,
       x.body -> 4 AS args,
       r.receipt ->> 1 AS status,
       r.receipt ->> 2 AS message,
       (r.receipt ->> 3)::bigint AS steps,
       r.receipt -> 4 AS result,
       r.receipt -> 5 AS events
FROM txs t
JOIN blocks b ON b.height = t.height
CROSS JOIN LATERAL (SELECT msgpack_json(t.receipt) AS receipt) r
CROSS JOIN LATERAL (SELECT block_tx_body(b.block, t.tx_index) AS body) x;

CREATE VIEW v_events AS
SELECT e.height,
       e.tx_index,
       e.event_index,
       encode(e.tx_id, 'hex') AS tx_id,
       utf8_text(e.contract) AS contract,
       utf8_text(e.name) AS name,
       utf8_text(e.key) AS key,
       msgpack_json(e.payload) AS payload
FROM events e;

CREATE VIEW v_state AS
SELECT utf8_text(CASE WHEN k.sep > 0 THEN substr(s.key, 1, k.sep - 1) END) AS contract,
       utf8_text(CASE WHEN k.sep > 0 THEN substr(s.key, k.sep + 1) ELSE s.key END) AS key,
       msgpack_json(s.value) AS value,
       s.value AS raw,
       (SELECT max(h.height) FROM history h WHERE h.key = s.key) AS height
FROM state s
CROSS JOIN LATERAL (SELECT position('\x00'::bytea IN s.key) AS sep) k;
"""


def create_functions_sql(schema: str) -> str:
    return CREATE_FUNCTIONS.replace("@s@", quote(schema))


def grant_reader_sql(schema: str, role: str) -> str:
    """SQL that lets ``role`` read the views of the ledger in ``schema`` and nothing else:
    no table, no write. Run it as the ledger's role (the owner of the schema)."""
    schema_id, role_id = quote(schema), quote(role)
    views = ", ".join(f"{schema_id}.{view}" for view in VIEWS)
    return (
        f"GRANT USAGE ON SCHEMA {schema_id} TO {role_id};\nGRANT SELECT ON {views} TO {role_id};\n"
    )


def quote(identifier: str) -> str:
    """``identifier`` as a quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'
