#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz/bolt_session_fuzz.c.

Each file is one byte choosing the client's side (see bolt_session_fuzz.c:
bits 0-1 the request, bit 2 a 256-byte max_message_size, ...) followed by
what a Bolt server sends in answer to that client: the handshake answer
word (or the manifest v1 offer), then chunked PackStream messages, as the
Bolt specification describes them.  Not run by the build: the files it
writes are kept in tests/fuzz/corpus/bolt_session/.
Run it again after changing it:

    python3 tests/fuzz/gen_bolt_session_corpus.py tests/fuzz/corpus/bolt_session

Check where each seed gets with
    GJ_FUZZ_VERBOSE=1 build-fuzz/tests/fuzz/bolt_session_fuzz tests/fuzz/corpus/bolt_session/*
"""
import os
import struct
import sys

# ---- PackStream v1 ---------------------------------------------------------


class Struct:
    def __init__(self, tag, *fields):
        self.tag = tag
        self.fields = fields


def pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if -16 <= v <= 127:
            return struct.pack(">b", v)
        if -128 <= v <= 127:
            return b"\xc8" + struct.pack(">b", v)
        if -32768 <= v <= 32767:
            return b"\xc9" + struct.pack(">h", v)
        if -(2**31) <= v < 2**31:
            return b"\xca" + struct.pack(">i", v)
        return b"\xcb" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xc1" + struct.pack(">d", v)
    if isinstance(v, str):
        return sized(v.encode(), 0x80, 0xD0)
    if isinstance(v, bytes):
        return sized_bytes(v)
    if isinstance(v, list):
        return header(len(v), 0x90, 0xD4) + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        out = header(len(v), 0xA0, 0xD8)
        for k, x in v.items():
            out += pack(k) + pack(x)
        return out
    if isinstance(v, Struct):
        return bytes([0xB0 | len(v.fields), v.tag]) + b"".join(pack(x) for x in v.fields)
    raise TypeError(v)


def header(n, tiny, big8):
    if n < 16:
        return bytes([tiny | n])
    if n < 256:
        return bytes([big8, n])
    if n < 65536:
        return bytes([big8 + 1]) + struct.pack(">H", n)
    return bytes([big8 + 2]) + struct.pack(">I", n)


def sized(data, tiny, big8):
    return header(len(data), tiny, big8) + data


def sized_bytes(data):
    if len(data) < 256:
        return b"\xcc" + bytes([len(data)]) + data
    if len(data) < 65536:
        return b"\xcd" + struct.pack(">H", len(data)) + data
    return b"\xce" + struct.pack(">I", len(data)) + data


# ---- Bolt messages -----------------------------------------------------------

SUCCESS, RECORD, IGNORED, FAILURE = 0x70, 0x71, 0x7E, 0x7F


def chunked(body, chunk=65535):
    out = b""
    for i in range(0, len(body), chunk):
        piece = body[i:i + chunk]
        out += struct.pack(">H", len(piece)) + piece
    return out + b"\x00\x00"


def msg(tag, *fields, chunk=65535):
    return chunked(pack(Struct(tag, *fields)), chunk)


def success(meta=None):
    return msg(SUCCESS, meta or {})


def record(*values):
    return msg(RECORD, list(values))


def failure(code, message):
    return msg(FAILURE, {"code": code, "message": message})


def version_word(major, minor, rng=0):
    return bytes([0, rng, minor, major])


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


HELLO_OK = success({"server": "Neo4j/5.26.0", "connection_id": "bolt-7", "hints": {}})
HELLO_OK_44 = success({"server": "Neo4j/4.4.30", "connection_id": "bolt-3",
                       "patch_bolt": ["utc"]})
RUN_OK = success({"fields": ["n"], "t_first": 2})
PULL_DONE = success({"has_more": False, "bookmark": "FB:kcwQ", "type": "r", "t_last": 1,
                     "db": "neo4j"})


def node5(i, labels, props):
    return Struct(0x4E, i, labels, props, "4:db:%d" % i)


def node44(i, labels, props):
    return Struct(0x4E, i, labels, props)


def rel5(i, a, b, typ, props):
    return Struct(0x52, i, a, b, typ, props, "5:db:%d" % i, "4:db:%d" % a, "4:db:%d" % b)


def unbound5(i, typ, props):
    return Struct(0x72, i, typ, props, "5:db:%d" % i)


def seeds():
    v54 = version_word(5, 4)
    login54 = v54 + HELLO_OK + success()   # HELLO, LOGON
    alice = node5(1, ["Person"], {"name": "Alice", "age": 33})
    bob = node5(2, ["Person"], {"name": "Bob"})
    yield "query_54", 0x00, login54 + RUN_OK + record(1) + record(2) + PULL_DONE
    yield "graph_54", 0x00, (
        login54 + success({"fields": ["a", "r", "p"], "t_first": 0})
        + record(alice, rel5(7, 1, 2, "KNOWS", {"since": 2020}),
                 Struct(0x50, [alice, bob], [unbound5(7, "KNOWS", {})], [1, 1]))
        + record(Struct(0x44, 19000), Struct(0x49, 1700000000, 5, 3600),
                 Struct(0x45, 1, 2, 3, 4), Struct(0x58, 7203, 1.5, -2.0),
                 3.25, b"\x00\x01", None, True, "x" * 40, list(range(20)))
        + PULL_DONE)
    yield "query_44", 0x00, (
        version_word(4, 4) + HELLO_OK_44 + RUN_OK
        + record(node44(1, ["Person"], {"name": "Alice"}),
                 Struct(0x52, 5, 1, 2, "KNOWS", {}), Struct(0x49, 1700000000, 0, 0))
        + PULL_DONE)
    manifest = b"\x00\x00\x01\xff" + varint(1) + version_word(5, 8, 8) + varint(0)
    yield "manifest_58", 0x00, manifest + HELLO_OK + success() + RUN_OK + record(1) + PULL_DONE
    yield "fetch2_has_more", 0x01, (
        login54 + RUN_OK + record(1) + record(2) + success({"has_more": True})
        + record(3) + PULL_DONE)
    yield "failure_reset", 0x00, (
        login54 + failure("Neo.ClientError.Statement.SyntaxError", "Invalid input 'RETUR'")
        + msg(IGNORED) + success())
    yield "logon_failure", 0x00, (
        v54 + HELLO_OK
        + failure("Neo.ClientError.Security.Unauthorized", "The client is unauthorized"))
    yield "bearer_54", 0x08, login54 + RUN_OK + record("tok") + PULL_DONE
    yield "stop_discard", 0x02, (
        login54 + RUN_OK + record(1) + record(2) + success({"has_more": True})
        + success({"type": "r", "t_last": 0}))
    yield "transaction", 0x03, (
        login54 + success()                                     # BEGIN
        + success({"fields": [], "t_first": 0}) + success({"type": "w"})  # RUN, PULL
        + RUN_OK + record(2) + success({"has_more": False, "type": "r"})
        + RUN_OK + record(3) + success({"has_more": False, "type": "r"})
        + success({"bookmark": "FB:tx1"}))                     # COMMIT
    yield "too_big", 0x04, login54 + RUN_OK + record("y" * 400) + PULL_DONE
    yield "noops_small_chunks", 0x60, (
        v54 + b"\x00\x00" + HELLO_OK + b"\x00\x00" + success()
        + msg(SUCCESS, {"fields": ["n", "m"], "t_first": 1}, chunk=3)
        + b"\x00\x00" + msg(RECORD, [1, {"k": [1, 2]}], chunk=2) + PULL_DONE)
    yield "http_port", 0x00, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    yield "no_version", 0x00, b"\x00\x00\x00\x00"


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/bolt_session"
    os.makedirs(out_dir, exist_ok=True)
    for name, mode, data in seeds():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(bytes([mode]) + data)


if __name__ == "__main__":
    main()
