"""Tests of the notebook front (a package, so its conftest does not shadow tests/conftest.py)."""
