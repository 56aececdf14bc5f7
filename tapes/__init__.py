"""tapes: record/replay HTTP tapes: the proxy, matching, the pytest plugin, interop.

Importing this package is cheap (the pytest plugin is loaded in every pytest run); the proxy
and its dependencies load only when used. Errors: `tapes.errors.TapeError`.
"""
