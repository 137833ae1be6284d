"""A seeded simulation: random years of many customers on the write side, every invariant
checked after every step. A failing seed prints itself and how to run it again."""
