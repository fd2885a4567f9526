#!/usr/bin/python3
"""Both ends of TLS connections in one thread, over in-memory BIO pairs,
driving libssl.so.3 through ctypes, so that the SSL* addresses are known.

  py_bio_pair.py CERT KEY free|exec

Each connection carries OpenAI chat rounds (POST /v1/chat/completions to
api.openai.com): the client end writes the request and reads the
response, the server end the reverse.  The sensor ignores the server end
(it reads requests) and stops copying it in the kernel; these steps check
that an SSL* address it ignored, once reused, is a new connection.

First: one connection, server end created first (its SSL* is "server"),
a round tagged "first"; prints {"step": "first", "server": ADDR} and
waits for a line on stdin (the test waits for the sensor to skip the
server end), then a round tagged "second" and {"step": "second"}; waits
for a line again.  Then:

free: both ends are SSL_free()d, server end last, and a new connection is
  made client end first, so that the client gets the freed server's
  address from malloc; prints {"step": "reused", "client": ADDR}, makes a
  round tagged "third", prints {"step": "third"}.
exec: the process execs itself with the same arguments and
  OISP_BIO_PHASE=2 instead of 1 (run it without address randomisation,
  setarch -R, and with PYTHONHASHSEED fixed, so that the new image
  allocates as the old one did up to its first SSL_new()); the new image
  makes a connection client end first, prints {"step": "reused",
  "client": ADDR}, a round tagged "third" and {"step": "third"}.

Every round's user message is "bio pair says hello <tag> <pid>".
"""
import ctypes
import json
import os
import sys

ssl = ctypes.CDLL("libssl.so.3")
P = ctypes.c_void_p
for name, res, args in (
        ("TLS_method", P, []),
        ("SSL_CTX_new", P, [P]),
        ("SSL_CTX_use_certificate_file", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int]),
        ("SSL_CTX_use_PrivateKey_file", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int]),
        ("SSL_new", P, [P]),
        ("SSL_free", None, [P]),
        ("SSL_set_bio", None, [P, P, P]),
        ("SSL_set_connect_state", None, [P]),
        ("SSL_set_accept_state", None, [P]),
        ("SSL_do_handshake", ctypes.c_int, [P]),
        ("SSL_write", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int]),
        ("SSL_read", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int]),
        ("BIO_new_bio_pair", ctypes.c_int,
         [ctypes.POINTER(P), ctypes.c_size_t, ctypes.POINTER(P), ctypes.c_size_t])):
    f = getattr(ssl, name)
    f.restype, f.argtypes = res, args

PEM = 1


def contexts(cert, key):
    cctx = ssl.SSL_CTX_new(ssl.TLS_method())
    sctx = ssl.SSL_CTX_new(ssl.TLS_method())
    assert cctx and sctx
    assert ssl.SSL_CTX_use_certificate_file(sctx, cert.encode(), PEM) == 1
    assert ssl.SSL_CTX_use_PrivateKey_file(sctx, key.encode(), PEM) == 1
    return cctx, sctx


def connect(cctx, sctx, server_first):
    """(client SSL*, server SSL*) with the handshake done."""
    if server_first:
        s = ssl.SSL_new(sctx)
        c = ssl.SSL_new(cctx)
    else:
        c = ssl.SSL_new(cctx)
        s = ssl.SSL_new(sctx)
    b1, b2 = P(), P()
    assert ssl.BIO_new_bio_pair(ctypes.byref(b1), 0, ctypes.byref(b2), 0) == 1
    ssl.SSL_set_bio(c, b1, b1)
    ssl.SSL_set_bio(s, b2, b2)
    ssl.SSL_set_connect_state(c)
    ssl.SSL_set_accept_state(s)
    for _ in range(100):
        rc, rs = ssl.SSL_do_handshake(c), ssl.SSL_do_handshake(s)
        if rc == 1 and rs == 1:
            return c, s
    raise SystemExit("handshake did not finish")


def send_all(s, data):
    n = ssl.SSL_write(s, data, len(data))
    assert n == len(data), n


def read_message(s, want):
    """Reads until @want bytes came (the test knows each message's size)."""
    buf = ctypes.create_string_buffer(65536)
    got = b""
    while len(got) < want:
        n = ssl.SSL_read(s, buf, len(buf))
        assert n > 0, n
        got += buf.raw[:n]
    return got


def chat_round(c, s, tag):
    msg = "bio pair says hello %s %d" % (tag, os.getpid())
    body = json.dumps({"model": "gpt-4o-mini",
                       "messages": [{"role": "user", "content": msg}]}).encode()
    req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
           b"Authorization: Bearer sk-test-biopair-0123456789\r\n"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    rbody = json.dumps({
        "id": "chatcmpl-bio-%s" % tag, "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Echo: " + msg},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}).encode()
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(rbody)) + rbody
    send_all(c, req)
    assert read_message(s, len(req)) == req
    send_all(s, resp)
    assert read_message(c, len(resp)) == resp


def say(**kw):
    print(json.dumps(kw), flush=True)


def third(c, s):
    """The round on the connection that reuses the ignored address."""
    say(step="reused", client=c)
    chat_round(c, s, "third")
    say(step="third")


def main():
    cert, key, mode = sys.argv[1:4]
    phase2 = os.environ.get("OISP_BIO_PHASE") == "2"
    cctx, sctx = contexts(cert, key)
    c, s = connect(cctx, sctx, server_first=not phase2)
    if phase2:
        third(c, s)
        return
    chat_round(c, s, "first")
    say(step="first", server=s)
    sys.stdin.readline()
    chat_round(c, s, "second")
    say(step="second")
    sys.stdin.readline()
    if mode == "exec":
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv,
                  dict(os.environ, OISP_BIO_PHASE="2"))
    ssl.SSL_free(c)
    ssl.SSL_free(s)
    third(*connect(cctx, sctx, server_first=False))


main()
