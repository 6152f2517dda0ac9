"""The baseline of the inform benchmark: a minimal ASGI app answering the two requests of a
periodic-inform session with fixed bytes (InformResponse + cookie, then 204)."""

from __future__ import annotations

INFORM_RESPONSE = (
    b'<?xml version="1.0" encoding="UTF-8"?><soap-env:Envelope '
    b'xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID '
    b'soap-env:mustUnderstand="1">1</cwmp:ID></soap-env:Header><soap-env:Body>'
    b"<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"
    b"</soap-env:Body></soap-env:Envelope>"
)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if body:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/xml; charset=utf-8"),
                    (b"content-length", str(len(INFORM_RESPONSE)).encode()),
                    (b"set-cookie", b"lsm_session=baseline; Path=/; HttpOnly"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": INFORM_RESPONSE})
    else:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
