"""Live capture and live reports: the mitmproxy observing proxy, scapy sniffing, the rolling
capture log, per-operation statistics and the `restscope tail` dashboard.

Nothing here imports `specs`; the spec check is loaded through the `restscope.checkers`
entry-point group (see `observe.live.checking`).
"""
