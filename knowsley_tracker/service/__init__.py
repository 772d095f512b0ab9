"""Use-cases: what officers, chairs and cron jobs do to a plan, one function each.

Every function takes a :class:`Session` (the open store, the clock, who is
acting) and works in domain terms. The CLI calls one function per command
inside ``session.store.transaction()``; nothing here prints or parses options.
One module per noun, mirroring ``knowsley_tracker/cli``.
"""
