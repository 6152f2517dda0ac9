"""Hostile-input tests for the CWMP SOAP codec: XXE, entity bombs, size/depth/zip bombs, fuzz.

The ACS endpoint is on the internet, so parse() and decode_body() must reject all of this
with SoapParseError (or return None for an empty body) and never leak any other exception,
fetch anything, or allocate without bound.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import random
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from linesman.cwmp import soap
from linesman.cwmp.soap import (
    DeviceId,
    Envelope,
    EventStruct,
    Inform,
    ParameterValue,
    SoapParseError,
    decode_body,
    parse,
    serialize,
)

MB = 1024 * 1024
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CWMP = "urn:dslforum-org:cwmp-1-0"


def _envelope(inner: str) -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:cwmp="{CWMP}"><soapenv:Body>'
        f"<cwmp:Reboot><CommandKey>{inner}</CommandKey></cwmp:Reboot>"
        "</soapenv:Body></soapenv:Envelope>"
    )


VALID_INFORM = serialize(
    Envelope(
        Inform(
            DeviceId("Acme", "00D09E", "IGD", "SN1"),
            [EventStruct("1 BOOT"), EventStruct("M Reboot", "ck")],
            current_time="2024-01-01T00:00:00Z",
            parameters=[ParameterValue(f"IGD.P{i}", f"v{i}") for i in range(5)],
        ),
        cwmp_id="1",
    )
)


def _assert_rejected(data: bytes, match: str | None = None) -> SoapParseError:
    with pytest.raises(SoapParseError, match=match) as info:
        parse(data)
    assert type(info.value) in (SoapParseError, soap.UnknownMethodError)
    return info.value


# --------------------------------------------------------------------------------------------
# Entities and DTDs
# --------------------------------------------------------------------------------------------


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        type(self).requests.append(self.path)
        body = b'<!ENTITY leak "LEAKED">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_canary() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request an XML parser might make."""
    _RecordingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _RecordingHandler.requests
    finally:
        server.shutdown()
        server.server_close()


def _xxe(url: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM "{url}">]>\n'
        + _envelope("&xxe;")
    ).encode()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/"])
def test_xxe_rejected(url: str) -> None:
    error = _assert_rejected(_xxe(url), match="not allowed")
    assert "root:" not in str(error)


def test_xxe_makes_no_request(http_canary: tuple[str, list[str]]) -> None:
    base, requests = http_canary
    for data in (
        _xxe(f"{base}/entity"),
        f'<!DOCTYPE foo SYSTEM "{base}/external.dtd">{_envelope("&leak;")}'.encode(),
        f'<!DOCTYPE foo [<!ENTITY % p SYSTEM "{base}/param.dtd"> %p;]>{_envelope("x")}'.encode(),
    ):
        _assert_rejected(data)
    assert requests == []


def test_parser_itself_never_resolves_entities(http_canary: tuple[str, list[str]]) -> None:
    # Defence in depth: even if the DOCTYPE pre-check were bypassed, the parser we configure
    # must neither read files nor touch the network.
    base, requests = http_canary
    parser = soap._parser("utf-8")
    for url in ("file:///etc/passwd", f"{base}/entity"):
        try:
            root = etree.fromstring(_xxe(url), parser)
        except etree.XMLSyntaxError:
            continue
        assert "root:" not in "".join(root.itertext())
        assert "LEAKED" not in "".join(root.itertext())
    with contextlib.suppress(etree.XMLSyntaxError):
        etree.fromstring(f'<!DOCTYPE a SYSTEM "{base}/x.dtd"><a/>'.encode(), parser)
    assert requests == []


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>\n"
    + _envelope("&lol9;").encode()
)


def test_billion_laughs_rejected_quickly() -> None:
    start = time.perf_counter()
    _assert_rejected(BILLION_LAUGHS, match="not allowed")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE x>",
        b"<!DOCTYPE soapenv:Envelope>\n" + _envelope("x").encode(),
        b"<!ENTITY x 'y'>" + _envelope("x").encode(),
        _envelope("x").encode() + b"<!DOCTYPE trailing>",
        b"<!ELEMENT a ANY>" + _envelope("x").encode(),
    ],
)
def test_any_declaration_is_rejected(data: bytes) -> None:
    _assert_rejected(data, match="not allowed")


def test_declaration_hidden_by_utf16_is_rejected() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]>' + _envelope(
        "&x;"
    )
    _assert_rejected(data.encode("utf-16"))
    _assert_rejected(data.encode("utf-16-be"))


def test_utf7_declared_document_is_read_as_utf8() -> None:
    # UTF-7 could smuggle "<!DOCTYPE" as "+ADw-!DOCTYPE"; we never honour such encodings.
    data = (
        b'<?xml version="1.0" encoding="UTF-7"?>'
        + _envelope(
            "+ADw-!DOCTYPE a +AFs-+ADw-!ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-"
        ).encode()
    )
    env = parse(data)
    assert env is not None
    assert env.body.command_key.startswith("+ADw-!DOCTYPE")  # type: ignore[union-attr]


def test_xinclude_is_not_processed() -> None:
    data = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:cwmp="{CWMP}" '
        'xmlns:xi="http://www.w3.org/2001/XInclude"><soapenv:Body><cwmp:Reboot><CommandKey>'
        '<xi:include href="file:///etc/passwd" parse="text"/></CommandKey></cwmp:Reboot>'
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()
    env = parse(data)
    assert env is not None
    assert env.body.command_key == ""  # type: ignore[union-attr]


def test_undefined_entity_rejected() -> None:
    _assert_rejected(_envelope("&nbsp;").encode(), match="well-formed")


def test_character_references_are_fine() -> None:
    env = parse(_envelope("&#x41;&#66;&lt;&amp;").encode())
    assert env is not None and env.body.command_key == "AB<&"  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# Size and depth
# --------------------------------------------------------------------------------------------


def test_fifty_megabyte_body_rejected_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = soap._parser
    monkeypatch.setattr(soap, "_parser", lambda enc: calls.append(enc) or real(enc))

    def padded(size: int) -> bytes:
        return VALID_INFORM.replace(b"<soap-env:Body>", b"<soap-env:Body>" + b" " * size)

    data = padded(50 * MB)
    start = time.perf_counter()
    _assert_rejected(data, match="larger than")
    assert time.perf_counter() - start < 0.5
    assert calls == []

    # A smaller padded body shows the cap is what rejects it: the same bytes parse once the
    # caller raises the limit. (libxml2 would refuse 50 MB of whitespace in one text node.)
    data = padded(5 * MB)
    with pytest.raises(SoapParseError, match="larger than"):
        parse(data)
    assert calls == []
    assert parse(data, max_bytes=6 * MB) is not None
    assert calls == ["utf-8"]


def test_max_bytes_is_exact() -> None:
    size = len(VALID_INFORM)
    assert parse(VALID_INFORM, max_bytes=size) is not None
    with pytest.raises(SoapParseError, match="larger than"):
        parse(VALID_INFORM, max_bytes=size - 1)


def _nested(depth: int) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:c="{CWMP}"><s:Body><c:Reboot><CommandKey>'
        + "<a>" * depth
        + "x"
        + "</a>" * depth
        + "</CommandKey></c:Reboot></s:Body></s:Envelope>"
    ).encode()


@pytest.mark.parametrize("depth", [100, 200, 10_000, 100_000])
def test_deep_nesting_rejected(depth: int) -> None:
    start = time.perf_counter()
    _assert_rejected(_nested(depth), match="deep|depth")
    assert time.perf_counter() - start < 2.0


def test_depth_limit_is_configurable_and_exact() -> None:
    data = _nested(10)  # Envelope/Body/Reboot/CommandKey + 10 = 14 levels
    assert parse(data, max_depth=14) is not None
    with pytest.raises(SoapParseError, match="deeper than 13"):
        parse(data, max_depth=13)


def test_depth_beyond_libxml2_limit_is_still_rejected() -> None:
    with pytest.raises(SoapParseError, match="depth"):
        parse(_nested(300), max_depth=1000)


def test_normal_messages_are_well_within_default_depth() -> None:
    assert parse(VALID_INFORM) is not None


# --------------------------------------------------------------------------------------------
# Garbage of every kind
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"not xml at all",
        b"\x00\x01\x02\xff\xfe",
        b"\xff\xfe<\x00a\x00>\x00",
        json.dumps({"Inform": {"DeviceId": "x"}}).encode(),
        b"<html><body>hello</body></html>",
        b"<Envelope><Body><Inform/></Body></Envelope>",
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
        f'<e:Envelope xmlns:e="{SOAP_ENV}"/>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Header/></e:Envelope>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body/></e:Envelope>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body>text only</e:Body></e:Envelope>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><e:Bogus/></e:Body></e:Envelope>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><x:Inform xmlns:x="urn:x"/></e:Body>'
        "</e:Envelope>".encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><c:Hack xmlns:c="{CWMP}"/></e:Body>'
        "</e:Envelope>".encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><c:Inform xmlns:c="{CWMP}"/></e:Body>'
        "</e:Envelope>".encode(),
        _envelope("x").encode() + b"<second-root/>",
        _envelope("x").encode().replace(b"</CommandKey>", b"</Commandkey>"),
        _envelope("\x00").encode(),
        b"<a>\xc3\x28</a>",
        b"\xef\xbb\xbf",
    ],
)
def test_garbage_rejected(data: bytes) -> None:
    _assert_rejected(data)


def test_every_truncation_of_a_valid_message_is_handled() -> None:
    for cut in range(0, len(VALID_INFORM) - 1):
        data = VALID_INFORM[:cut]
        try:
            result = parse(data)
        except SoapParseError:
            continue
        # Only an empty prefix may parse, and then only to "no message".
        assert result is None and not data.strip()


def test_random_binary_garbage() -> None:
    rng = random.Random(20240501)
    for _ in range(300):
        data = rng.randbytes(rng.randint(1, 400))
        if not data.strip(b" \t\r\n"):
            assert parse(data) is None
            continue
        with pytest.raises(SoapParseError):
            parse(data)


@pytest.mark.parametrize("bad", [None, 12, 3.5, ["<a/>"], object()])
def test_non_bytes_input(bad: object) -> None:
    with pytest.raises(SoapParseError, match="expected bytes"):
        parse(bad)  # type: ignore[arg-type]


def test_huge_int_argument_to_non_bytes_is_not_allocated() -> None:
    with pytest.raises(SoapParseError):
        decode_body(10**12, "identity")  # type: ignore[arg-type]


def test_unpaired_surrogate_str_input() -> None:
    with pytest.raises(SoapParseError):
        parse("\ud800<a/>")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# decode_body
# --------------------------------------------------------------------------------------------


def test_decode_identity_and_none() -> None:
    assert decode_body(b"abc", None) == b"abc"
    assert decode_body(b"abc", "") == b"abc"
    assert decode_body(b"abc", " Identity ") == b"abc"
    assert decode_body(bytearray(b"abc"), None) == b"abc"
    with pytest.raises(SoapParseError, match="larger than"):
        decode_body(b"abcd", None, max_bytes=3)


def test_decode_gzip_and_deflate_variants() -> None:
    payload = VALID_INFORM * 3
    assert decode_body(gzip.compress(payload), "gzip") == payload
    assert decode_body(gzip.compress(payload), "X-GZIP") == payload
    assert decode_body(zlib.compress(payload), "deflate") == payload
    raw = zlib.compressobj(wbits=-15)
    raw_deflate = raw.compress(payload) + raw.flush()
    assert decode_body(raw_deflate, "deflate") == payload
    # Concatenated gzip members are one valid gzip stream.
    assert decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip") == b"abcd"
    # Codings listed in application order are undone in reverse.
    assert decode_body(gzip.compress(zlib.compress(payload)), "deflate, gzip") == payload
    # An empty POST with the usual header is still just empty.
    assert decode_body(b"", "gzip") == b""


def test_decode_output_exactly_at_the_cap() -> None:
    payload = b"x" * 1000
    assert decode_body(gzip.compress(payload), "gzip", max_bytes=1000) == payload
    with pytest.raises(SoapParseError, match="larger than"):
        decode_body(gzip.compress(payload), "gzip", max_bytes=999)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"definitely not gzip", "gzip"),
        (gzip.compress(b"hello world" * 100, mtime=0)[:-12], "gzip"),
        (gzip.compress(b"hello world" * 100, mtime=0)[:20], "gzip"),
        (b"\x78\x9c garbage", "deflate"),
        (b"\xff\xff\xff", "deflate"),
        (b"abc", "br"),
        (b"abc", "compress"),
        (b"abc", "gzip;q=1"),
    ],
)
def test_decode_bad_input(data: bytes, encoding: str) -> None:
    with pytest.raises(SoapParseError):
        decode_body(data, encoding)


@functools.cache
def _bomb(expanded: int, wbits: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"\0" * MB
    parts = [comp.compress(block) for _ in range(expanded // MB)]
    parts.append(comp.flush())
    return b"".join(parts)


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15), ("deflate", -15)])
def test_compression_bomb_is_capped_in_memory(encoding: str, wbits: int) -> None:
    bomb = _bomb(256 * MB, wbits)  # 256 MiB of zeros in about 250 KiB
    assert len(bomb) < MB
    cap = 4 * MB
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(SoapParseError, match="larger than"):
            decode_body(bomb, encoding, max_bytes=cap)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Measured about cap + 0.8 MiB; anything near 2x the cap would mean an unbounded step.
    assert peak < cap + 8 * MB, f"peak {peak / MB:.1f} MiB"
    assert elapsed < 5.0  # generous: it stops after ~4 MiB of output, in milliseconds


def test_nested_gzip_bomb_is_capped_at_every_layer() -> None:
    inner = _bomb(256 * MB, 31)
    outer = gzip.compress(inner)
    tracemalloc.start()
    try:
        with pytest.raises(SoapParseError, match="larger than"):
            decode_body(outer, "gzip, gzip", max_bytes=4 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 * MB


# --------------------------------------------------------------------------------------------
# Fuzzing: parse() returns an Envelope or None, or raises SoapParseError, and nothing else
# --------------------------------------------------------------------------------------------


def _parse_contract(data: bytes) -> None:
    try:
        result = parse(data)
    except SoapParseError:
        return
    assert result is None or isinstance(result, Envelope)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _parse_contract(data)


@st.composite
def _mutated_message(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID_INFORM)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "dup"]))
        if action == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif action == "insert":
            snippet = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b"&",
                        b"<x>",
                        b"</x>",
                        b"<!--",
                        b"]]>",
                        b"<![CDATA[",
                        b"\x00",
                        b"&lt;",
                        b"&#0;",
                        b"&#x10FFFF;",
                        b"xmlns:c='urn:x'",
                        b"<?pi?>",
                        b"\xff",
                    ]
                )
            )
            data[pos:pos] = snippet
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 30))]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 60))]
    return bytes(data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_message())
def test_fuzz_mutated_inform(data: bytes) -> None:
    _parse_contract(data)


_XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11"
        "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff",
    ),
    max_size=40,
).map(lambda s: s.strip(" \t\r\n"))


@settings(max_examples=300, deadline=None)
@given(
    cwmp_id=st.one_of(st.none(), _XML_TEXT),
    names=st.lists(_XML_TEXT, max_size=5),
    values=st.lists(st.tuples(_XML_TEXT, _XML_TEXT, st.sampled_from(["string", "xs:int", "b"]))),
    key=_XML_TEXT,
)
def test_fuzz_round_trip(
    cwmp_id: str | None, names: list[str], values: list[tuple[str, str, str]], key: str
) -> None:
    for message in (
        soap.GetParameterValues(names),
        soap.SetParameterValues([ParameterValue(n, v, t) for n, v, t in values], key),
    ):
        env = Envelope(message, cwmp_id=cwmp_id)
        assert parse(serialize(env)) == env
