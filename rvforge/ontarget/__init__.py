"""The deploy steps that run on the target machine itself.

A bare laptop has nothing but the standard library, and this package is copied to it alone
(with ``rvforge/__init__.py``, ``errors.py``, ``log.py`` and ``common.py``): it imports the
standard library and those modules only. ``tests/forge/test_boundaries.py`` enforces it.
"""
