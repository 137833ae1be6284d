"""Composition root of chargeledger: configuration, database bootstrap and the CLI."""
