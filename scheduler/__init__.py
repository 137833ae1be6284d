"""APScheduler wiring that issues the batch commands (Recurring Prepayment, Recurring Payment,
Invoice Production). Only the holder of a PostgreSQL advisory lock runs jobs."""
