"""Output: plain text, JSON, terminal tables and the board-pack formats.

Renderers take domain objects or report dataclasses and return text or lines;
only ``knowsley_tracker.cli`` prints. User text is always data: it is escaped
for the terminal (:func:`knowsley_tracker.render.text.safe`) and never read as
markup. Terminal tables are fitted to the width by ``render.fit`` and drawn by
``render.terminal`` with plain ANSI colour codes; Rich is not used, so a table
of thousands of rows prints in milliseconds.
"""
