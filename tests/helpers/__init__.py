"""Helpers for the fault-injection tests: the counts printed in the pytest summary,
and small scripts the tests run as separate processes."""
