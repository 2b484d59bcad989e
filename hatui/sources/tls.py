"""The one way hatui builds a TLS context: verified against the system's or a given CA bundle, unless the
operator turned verification off (and then the screen says so, see ui/views/common.insecure_sections).

Contexts are shared by every client with the same settings: loading a CA bundle costs tens of ms, and a
context holds no connection state.
"""
from __future__ import annotations

import ssl
from functools import cache


@cache
def tls_context(ca_file: str | None = None, insecure: bool = False,
                cert: str | tuple[str, str] | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(*cert) if isinstance(cert, tuple) else ctx.load_cert_chain(cert)
    return ctx
