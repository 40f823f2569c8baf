"""Container health check: is the bridge accepting DICOM connections?

``python -m dimse_bridge.healthcheck`` opens a TCP connection to the bridge's port on the
loopback interface and exits 0 if it is accepted within two seconds, 1 otherwise. It sends
nothing: no association is requested, so health checks leave no audit events and need no
AE title in the whitelist nor a TLS client certificate. The load balancer's TCP health check
tests the same thing from outside.
"""

from __future__ import annotations

import os
import socket
import sys


def main() -> int:
    port = int(os.environ.get("CLOUDPACS_DIMSE_PORT", "11112"))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return 0
    except OSError as exc:
        print(f"DIMSE port {port} not accepting connections: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
