"""The ledger's domain: money, periods, package rules and errors. Pure Python, no I/O."""
