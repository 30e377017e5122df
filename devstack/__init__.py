"""Local stack: runs the SAM template's functions, HTTP API and stream mappings in one process.

Kept import-free on purpose: every function worker imports this package first.
"""
