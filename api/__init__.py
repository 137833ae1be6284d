"""The HTTP API: Litestar routes, msgspec structs, auth, idempotency and problem details."""
