"""knowsley-tracker: keep a council's post-Ofsted improvement plan in one safe store."""

__version__ = "0.1.0"
