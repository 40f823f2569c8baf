"""The Content Security Policy the viewer is served with, locally and from CloudFront.

OHIF needs: its own scripts and one inline script of ``index.html`` (the public URL), web
workers made from blobs, WebAssembly codecs (``wasm-unsafe-eval``), inline styles, images
and fonts from data and blob URLs. It connects to the DICOMweb root and, with login, to the
identity provider: those origins are the one part that differs between deployments.
"""

from __future__ import annotations

from collections.abc import Sequence


def content_security_policy(connect: Sequence[str] = ()) -> str:
    """The policy, allowing connections to ``'self'`` and to the ``connect`` origins."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'wasm-unsafe-eval'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *connect],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *connect],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
