"""Output: plain text, JSON, Rich tables and the board-pack formats.

Renderers take domain objects or report dataclasses and return text or Rich
renderables; only ``knowsley_tracker.cli`` prints. User text is always data:
it is escaped for the terminal (:func:`knowsley_tracker.render.text.safe`) and
never parsed as Rich markup. Rich is imported only by ``render.rich_out`` (and
the CLI modules that call it), so plain and JSON output start fast.
"""
