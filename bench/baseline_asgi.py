"""The baseline of the inform benchmark: a minimal ASGI app answering the requests of a
CWMP session with fixed bytes, the way the ACS answers them but with no work behind them.

An Inform without an Authorization header gets a 401 with a fixed Digest challenge; one
with the header gets the InformResponse and a cookie; an empty POST gets 204. Credentials
are not checked: the baseline measures what this machine, this HTTP server and this load
generator reach for the same exchange, not an ACS.
"""

from __future__ import annotations

INFORM_RESPONSE = (
    b'<?xml version="1.0" encoding="UTF-8"?><soap-env:Envelope '
    b'xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID '
    b'soap-env:mustUnderstand="1">1</cwmp:ID></soap-env:Header><soap-env:Body>'
    b"<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"
    b"</soap-env:Body></soap-env:Envelope>"
)
#: A fixed challenge of the ACS's shape (the nonce is a valid-looking constant).
CHALLENGE = (
    b'Digest realm="Linesman ACS", qop="auth", '
    b'nonce="MTc2NDQ5MjAwMDowMDExMjIzMzQ0NTU2Njc3OmJhc2VsaW5lYmFzZWxpbmU=", algorithm=MD5'
)

_INFORM_HEADERS = [
    (b"content-type", b"text/xml; charset=utf-8"),
    (b"content-length", str(len(INFORM_RESPONSE)).encode()),
    (b"set-cookie", b"lsm_session=baseline; Path=/; HttpOnly"),
]
_CHALLENGE_HEADERS = [(b"www-authenticate", CHALLENGE), (b"content-length", b"0")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if not body:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if not any(name == b"authorization" for name, _ in scope["headers"]):
        await send({"type": "http.response.start", "status": 401, "headers": _CHALLENGE_HEADERS})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _INFORM_HEADERS})
    await send({"type": "http.response.body", "body": INFORM_RESPONSE})
