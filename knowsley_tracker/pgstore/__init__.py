"""The PostgreSQL store: one database holding several plans, for a council or a region.

Nothing here is imported unless the store is a server: importing this package
imports nothing (psycopg comes in with its modules), so the JSON-file store
never pays for it.

- ``migrations/*.sql``: the schema, in numbered plain SQL files (tables; roles,
  grants and row-level security).
- :mod:`.schema`: applies them in order under an advisory lock, and the checks
  ``kt doctor`` will run (version, constraints, policies).
- :mod:`.connection`: connecting through libpq, and the server's errors as kt's.
- :mod:`.access`: plans and who may do what on them.
- :mod:`.writing`: one command, one transaction, one writer per plan at a time.

This package will move under ``knowsley_tracker/storage/`` once that is a package.
"""
