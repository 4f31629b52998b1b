"""Connect to the address the SSRF guard checked, not to a fresh DNS answer.

Without this, ``requests`` would resolve the host name again when it opens the connection,
and a hostile DNS server could answer "public" to the guard and "127.0.0.1" a moment later
(DNS rebinding). The adapter below keeps the URL (and so cookies, the ``Host`` header,
TLS SNI and certificate checks) on the host *name*, and only swaps the address urllib3's
connection pool dials. Pools are keyed by (address, port, TLS server name), so two names on
one address share connections only for plain HTTP, where that is harmless.

When a proxy applies to a request the proxy resolves the name itself; pinning is then
impossible and skipped (Loupe's own session ignores proxy environment variables).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy

_PIN_ATTRIBUTE = "_loupe_pinned_address"


def pin(request: PreparedRequest, address: str) -> None:
    """Make ``request`` connect to ``address`` (an IP) while speaking to its URL's host name."""
    setattr(request, _PIN_ATTRIBUTE, address)
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    request.headers["Host"] = host if parts.port in (None, default_port) else f"{host}:{parts.port}"


def pinned_address(request: PreparedRequest) -> str | None:
    return getattr(request, _PIN_ATTRIBUTE, None)


class PinnedAddressAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that dials the pinned address of a request (see ``pin``)."""

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        address = pinned_address(request)
        if address is None or select_proxy(request.url, proxies):
            return super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        server_name = host_params["host"]
        if ipaddress.ip_address(address).version == 6:
            address = f"[{address}]"
        host_params = {**host_params, "host": address}
        if host_params["scheme"] == "https":
            # SNI and certificate verification (``ssl`` checks the certificate against the
            # server_hostname) stay on the name the user asked for. Not ``assert_hostname``:
            # urllib3 would then switch off check_hostname on requests' shared SSL context.
            pool_kwargs = {**pool_kwargs, "server_hostname": server_name}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)
