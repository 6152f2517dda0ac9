"""Hand-written SOAP envelopes for codec tests: the namespaces by their published URIs
(never taken from the codec under test) and `wrap`, which puts a method's XML into an
envelope the way a CPE would send it."""

from __future__ import annotations

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CWMP_10 = "urn:dslforum-org:cwmp-1-0"
CWMP_12 = "urn:dslforum-org:cwmp-1-2"


def wrap(method_xml: str, header_xml: str = "", ns: str = CWMP_10) -> bytes:
    """An envelope (prefixes S, cwmp and xsi) holding `header_xml` and, as its body,
    `method_xml`."""
    return (
        f'<S:Envelope xmlns:S="{SOAP_ENV}" xmlns:cwmp="{ns}" xmlns:xsi="{XSI}">'
        f"{header_xml}<S:Body>{method_xml}</S:Body></S:Envelope>"
    ).encode()
