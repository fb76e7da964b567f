"""The node's HTTP API: REST endpoints, RFC 9457 problem details, OpenAPI at /docs."""
