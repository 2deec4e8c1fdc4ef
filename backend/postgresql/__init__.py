"""Django's PostgreSQL backend, with timestamps read by psycopg's C loader (base.py). DATABASE_URL's postgres://
URLs select it (settings/base.py)."""
