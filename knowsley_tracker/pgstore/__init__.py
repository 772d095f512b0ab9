"""The PostgreSQL store: one database holding several plans, for a council or a region.

Nothing here is imported unless the store is a server: importing this package
imports nothing (psycopg comes in with its modules), so the JSON-file store
never pays for it (tests/test_pg_import_cost.py).

- ``migrations/*.sql``: the schema, in numbered plain SQL files (1 tables; 2 roles,
  grants and row-level security; 3 what an officer's history may say; 4 the writer
  lock; 5 the papers' fields; 6 the monthly loop; 7 the shape of an officer's history).
- :mod:`.schema`: applies them in order under an advisory lock, and the checks
  ``kt doctor`` will run (version, constraints, policies, triggers).
- :mod:`.connection`: connecting through libpq, and the server's errors as kt's.
- :mod:`.access`: plans and who may do what on them; :mod:`.database` holds a
  connection for the plan-level commands (``kt init``, ``kt plan``, ``kt access``).
- :mod:`.writing`: one command, one transaction, one writer per plan at a time.
- :mod:`.store`: :class:`~.store.PgStore`, the storage interface on one plan
  (:mod:`.rows` maps records to columns, :mod:`.history` reads and reverts history,
  :mod:`.plan_values` holds the plan's settings, counters and snapshots).

Setting a server up (the README's "Sharing a plan across a council" walks
through it with the commands):

1. The DBA creates the database and an installer login that owns it. The
   installer needs CREATEROLE (the schema makes its group roles) but not
   superuser::

       CREATE ROLE kt_installer LOGIN CREATEROLE PASSWORD '...';
       CREATE DATABASE improvement OWNER kt_installer;

2. The installer creates the schema and the first plan (``kt init`` on the server
   does both): :func:`knowsley_tracker.service.access.create_plan`. The schema makes
   the groups ``kt_<database>_{auth,planner,reader,officer,editor,admin}``; the
   installer may make other planners: ``GRANT kt_improvement_planner TO jlee``.
3. Officers, readers and the performance team are ordinary logins (``CREATE ROLE
   jlee LOGIN PASSWORD ...``, or the council's directory through GSSAPI/LDAP);
   a plan's admin gives them a role on it (``kt access grant jlee officer``),
   and links officers to their owners (``kt.owners.login``).
4. Passwords stay in libpq's places: ``~/.pgpass`` (0600), ``PGPASSWORD``, a
   service file; TLS through ``sslmode=verify-full`` in the URI or service.

This package will move under ``knowsley_tracker/storage/`` once that is a package.
"""
