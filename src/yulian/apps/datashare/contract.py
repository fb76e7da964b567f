"""datashare (数据共享): a catalogue of datasets whose values stay in a private collection.

A provider organisation publishes a dataset (title, description, schema, the collection its
values live in); each update records a new version of the dataset's private key through
``ctx.private.put`` — only the salted digest reaches the chain — and emits ``changed``
(数据变化实时探知). Another organisation files an access request with a purpose; the provider
approves it with a consent grant it made on that key (``consent.grant``), which this contract
checks covers the requester and the purpose. Reading a value is an ``access.read`` on the
trail (访问全程留痕), never a call here. ``changes`` answers the provider, approved requesters
and the collection's readers of this contract's state: the change feed of a dataset.
"""

MAX_ID = 64
MAX_TITLE = 256
MAX_TEXT = 2048
MAX_SCHEMA_FIELDS = 64
MAX_DATASETS = 1024
MAX_REQUESTS_PER_DATASET = 256
MAX_CHANGES_KEPT = 256
ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_."


def publish(ctx, dataset_id, title, description, schema, collection):
    _check_id(ctx, dataset_id, "dataset_id")
    _check_text(ctx, title, MAX_TITLE, "title")
    _check_text(ctx, description, MAX_TEXT, "description")
    _check_id(ctx, collection, "collection")
    ctx.require(
        isinstance(schema, dict) and 0 < len(schema) <= MAX_SCHEMA_FIELDS,
        "schema: a map of 1..64 field names to types",
    )
    ctx.require(not ctx.state.has("dataset/" + dataset_id), "dataset already published")
    ids = ctx.state.get("datasets", [])
    ctx.require(len(ids) < MAX_DATASETS, "the catalogue is full")
    dataset = {
        "id": dataset_id,
        "provider": ctx.sender.org,
        "title": title,
        "description": description,
        "schema": schema,
        "collection": collection,
        "published_at": ctx.block.height,
        "version": 0,
        "requests": 0,
    }
    ids.append(dataset_id)
    ctx.state.put("datasets", ids)
    ctx.state.put("dataset/" + dataset_id, dataset)
    ctx.emit("published", {"dataset": dataset_id, "provider": ctx.sender.org})
    return dataset


def update(ctx, dataset_id, digest, size):
    dataset = _dataset(ctx, dataset_id)
    ctx.require(ctx.sender.org == dataset["provider"], "only the provider updates its dataset")
    stored = ctx.private.put(dataset["collection"], dataset_id, digest, size, "")
    dataset["version"] = stored["version"]
    ctx.state.put("dataset/" + dataset_id, dataset)
    change = {
        "dataset": dataset_id,
        "collection": dataset["collection"],
        "version": stored["version"],
        "digest": stored["digest"],
        "size": size,
        "height": ctx.block.height,
    }
    ctx.state.put("change/" + dataset_id + "/" + str(stored["version"] % MAX_CHANGES_KEPT), change)
    ctx.emit("changed", change)
    return change


def request(ctx, dataset_id, purpose):
    dataset = _dataset(ctx, dataset_id)
    _check_id(ctx, purpose, "purpose")
    ctx.require(ctx.sender.org != dataset["provider"], "the provider needs no request")
    ctx.require(dataset["requests"] < MAX_REQUESTS_PER_DATASET, "too many requests")
    number = dataset["requests"] + 1
    dataset["requests"] = number
    ctx.state.put("dataset/" + dataset_id, dataset)
    filed = {
        "dataset": dataset_id,
        "number": number,
        "org": ctx.sender.org,
        "role": ctx.sender.role,
        "purpose": purpose,
        "status": "open",
        "grant_id": 0,
        "filed_at": ctx.block.height,
        "decided_at": 0,
        "note": "",
    }
    ctx.state.put("request/" + dataset_id + "/" + str(number), filed)
    ctx.emit("requested", {"dataset": dataset_id, "number": number, "org": ctx.sender.org})
    return filed


def approve(ctx, dataset_id, number, grant_id):
    dataset, filed = _open_request(ctx, dataset_id, number)
    grant = ctx.private.grant(grant_id)
    ctx.require(grant is not None, "no such consent grant")
    ctx.require(grant["in_force"], "the grant is not in force")
    ctx.require(
        grant["collection"] == dataset["collection"] and grant["key"] == dataset_id,
        "the grant is not for this dataset",
    )
    ctx.require(grant["grantor_org"] == dataset["provider"], "the grant is not the provider's")
    ctx.require(
        grant["grantee"].split(":")[0] == filed["org"], "the grant is not for the requester"
    )
    ctx.require(filed["purpose"] in grant["purposes"], "the grant does not cover the purpose")
    return _decide(ctx, dataset_id, filed, "approved", grant_id, "")


def reject(ctx, dataset_id, number, note):
    filed = _open_request(ctx, dataset_id, number)[1]
    _check_text(ctx, note, MAX_TITLE, "note")
    return _decide(ctx, dataset_id, filed, "rejected", 0, note)


def catalogue(ctx):
    return [ctx.state.get("dataset/" + i) for i in ctx.state.get("datasets", [])]


def dataset(ctx, dataset_id):
    return _dataset(ctx, dataset_id)


def requests(ctx, dataset_id):
    found = _dataset(ctx, dataset_id)
    prefix = "request/" + dataset_id + "/"
    return [ctx.state.get(prefix + str(n)) for n in range(1, found["requests"] + 1)]


def changes(ctx, dataset_id, since_version):
    found = _dataset(ctx, dataset_id)
    ctx.require(isinstance(since_version, int) and since_version >= 0, "since_version: an int >= 0")
    ctx.require(_subscribed(ctx, found), "only the provider and approved requesters follow it")
    first = max(since_version + 1, found["version"] - MAX_CHANGES_KEPT + 1, 1)
    prefix = "change/" + dataset_id + "/"
    return [
        ctx.state.get(prefix + str(v % MAX_CHANGES_KEPT))
        for v in range(first, found["version"] + 1)
    ]


def _subscribed(ctx, found):
    if ctx.sender.org == found["provider"]:
        return True
    prefix = "request/" + found["id"] + "/"
    for n in range(1, found["requests"] + 1):
        filed = ctx.state.get(prefix + str(n))
        if filed["org"] == ctx.sender.org and filed["status"] == "approved":
            return True
    return False


def _decide(ctx, dataset_id, filed, status, grant_id, note):
    ctx.require(ctx.sender.role == "admin", "only the provider's admin decides requests")
    filed["status"] = status
    filed["grant_id"] = grant_id
    filed["decided_at"] = ctx.block.height
    filed["note"] = note
    ctx.state.put("request/" + dataset_id + "/" + str(filed["number"]), filed)
    ctx.emit(status, {"dataset": dataset_id, "number": filed["number"], "org": filed["org"]})
    return filed


def _open_request(ctx, dataset_id, number):
    found = _dataset(ctx, dataset_id)
    ctx.require(ctx.sender.org == found["provider"], "only the provider decides requests")
    ctx.require(isinstance(number, int), "number: an int")
    filed = ctx.state.get("request/" + dataset_id + "/" + str(number))
    ctx.require(filed is not None, "no such request")
    ctx.require(filed["status"] == "open", "the request is already " + str(filed["status"]))
    return found, filed


def _dataset(ctx, dataset_id):
    _check_id(ctx, dataset_id, "dataset_id")
    found = ctx.state.get("dataset/" + dataset_id)
    ctx.require(found is not None, "no such dataset")
    return found


def _check_id(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.strip(ID_CHARS) == "",
        what + ": 1..64 of a-z, digits, - _ .",
    )


def _check_text(ctx, value, limit, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= limit,
        what + ": 1.." + str(limit) + " characters",
    )
