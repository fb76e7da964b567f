"""Introduction: a member node's side of private data (decisions 0075, 0080, 0081).

The chain carries salted digests; this package keeps and moves the values, on the nodes of
a collection's member organisations only:

- ``store``: the private store — one SQLite file with ``secure_delete``, each value sealed
  with the suite's AEAD under the node's data key; pending, held, missing and purged versions;
  how far the node applied the chain's private-data log.
- ``wire``: the ``private`` peer message (push, pull, items), strictly decoded.
- ``service``: dissemination and reconciliation — push at submission, pull after commit,
  purge on schedule and by vote, membership by the peer connection's certificate.

The chain-side rules (collections, consent, the access trail) are system contracts in
``yulian.execution.system``; the data model is ``yulian.types.privacy``.
"""
