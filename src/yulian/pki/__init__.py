"""The identities of a network directory, below the node: its layout on disk, the CA issuer,
member certificates and the chain it describes.

Every tool that reads or writes a network directory goes through here: ``yulian network init``
and ``org create`` (``node.bootstrap``), ``ca issue / renew / revoke``, the SDK's
``Wallet.from_network``, the benchmarks and the simulator. It imports only ``crypto`` and
``types``; the node's own config files are ``node.config``'s.
"""
