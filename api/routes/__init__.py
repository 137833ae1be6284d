"""Route handlers, one module per part of the contract."""
