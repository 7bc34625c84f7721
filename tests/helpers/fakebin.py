#!/usr/bin/env python3
"""Scripted binary STARTTLS servers for the client-role tests.

  fakebin.py PROTO MODE CERT KEY

PROTO: postgres (SSLRequest), ldap (StartTLS extended operation).  Prints
its port, then serves connections one after another until killed.  MODE:
  ok           accepts the switch, does TLS, writes "tls-ok" and echoes
  forged       the same, with EVIL-MARK and escape sequences in what it
               says before TLS (LDAP: the diagnosticMessage)
  refuse       refuses it ('N'; resultCode protocolError)
  inject       appends a forged message to the switch reply, same packet
  inject-later sends the forged message as a segment of its own
"""
import socket
import ssl
import sys
import time

OID = b"1.3.6.1.4.1.1466.20037"


def tlv(tag, value):
    assert len(value) < 128
    return bytes([tag, len(value)]) + value


MARK = b"EVIL-MARK \x1b[2J\x1b]0;owned\x07"


def ldap_response(code, diag=b""):
    op = tlv(0x0a, bytes([code])) + tlv(4, b"") + tlv(4, diag) + \
        (tlv(0x8a, OID) if code == 0 else b"")
    return tlv(0x30, tlv(2, b"\x01") + tlv(0x78, op))


FORGED = {
    # postgres: an AuthenticationOk, as if the server had accepted a login
    "postgres": b"R\x00\x00\x00\x08\x00\x00\x00\x00INJECTED",
    # ldap: a BindResponse success for message 2
    "ldap": tlv(0x30, tlv(2, b"\x02") + tlv(0x61, tlv(0x0a, b"\x00") +
                tlv(4, b"") + tlv(4, b"INJECTED"))),
}


def read(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def opening(proto, mode, c):
    if proto == "postgres":
        if read(c, 8) != b"\x00\x00\x00\x08\x04\xd2\x16\x2f":
            return None
        return b"N" if mode == "refuse" else b"S"
    head = read(c, 2)
    read(c, head[1])
    return ldap_response(2 if mode == "refuse" else 0,
                         MARK if mode == "forged" else b"")


def serve(proto, mode, c, ctx):
    reply = opening(proto, mode, c)
    if reply is None:
        return
    if mode == "inject":
        c.sendall(reply + FORGED[proto])
    else:
        c.sendall(reply)
        if mode == "inject-later":
            time.sleep(0.05)
            c.sendall(FORGED[proto])
    if mode not in ("ok", "forged"):
        c.settimeout(10)
        while c.recv(4096):
            pass
        return
    t = ctx.wrap_socket(c, server_side=True)
    t.sendall(b"tls-ok\n")
    while True:
        data = t.recv(4096)
        if not data:
            break
        t.sendall(data)
    try:
        t.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass


def main():
    proto, mode, cert, key = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print(srv.getsockname()[1], flush=True)
    for _ in range(1000):
        c, _ = srv.accept()
        try:
            serve(proto, mode, c, ctx)
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            c.close()


if __name__ == "__main__":
    main()
