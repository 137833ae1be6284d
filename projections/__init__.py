"""The read side: projections into PostgreSQL tables, and the queries the API uses."""
