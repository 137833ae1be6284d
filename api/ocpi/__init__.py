"""The OCPI 2.2.1 surface (eMSP role) under /ocpi/: its structs, envelope, auth and routes."""
