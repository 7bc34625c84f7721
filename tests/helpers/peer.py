#!/usr/bin/env python3
"""Scripted peers for the tests.  Each prints its port, then serves each
connection in a thread of its own until killed.

  peer.py starttls PROTO MODE CERT KEY [CLEARTEXT-LOG]
      a STARTTLS server for the client-role tests, honest or hostile.
      PROTO: smtp, imap, pop3, ftp, http-upgrade, lmtp, nntp, sieve,
      postgres, ldap, xmpp.  Every line it reads in clear text is appended to
      CLEARTEXT-LOG.  Its capabilities include X-STALE-CAP (smtp, imap,
      pop3, ftp), which must never reach the plain side.  MODE:
        ok           offers the switch, answers it, does TLS, then writes
                     "tls-ok" (sieve: its capabilities again, RFC 5804 2.2;
                     nntp: nothing, and CAPABILITIES gets its list, with
                     POST; http-upgrade: answers one request, RFC 2817) and
                     echoes until EOF
        forged       as ok, with EVIL-MARK, escape sequences, an [ALERT], a
                     [REFERRAL] or an APOP challenge in what it says before
                     TLS (ldap: in the diagnosticMessage)
        notoffered   does not offer the switch
        refuse       offers it, then refuses it ('N'; protocolError)
        close        offers it, then closes the connection at the switch
        inject       appends a forged response to the switch reply, same
                     packet
        inject-later sends the forged response as a segment of its own,
                     once the relay has begun its TLS handshake
  peer.py record PROTO FILE
      a plaintext backend that greets as PROTO would (smtp, lmtp, imap,
      pop3, nntp, sieve, ftp, http-upgrade), answers every line with a
      generic success (IMAP's CAPABILITY with its untagged response first,
      as a scanner expects) and appends each line to FILE.
  peer.py backend PROTO FILE
      a plaintext lmtp, nntp or sieve backend that appends every line to
      FILE and answers as a small server would: NNTP with one article in
      group test.group, posting accepted; LMTP and ManageSieve with a
      success for everything.
  peer.py echo
      echoes; on EOF from the client, finishes echoing and half-closes.
  peer.py tap PORT FILE
      a wire tap in front of a real backend on 127.0.0.1:PORT: forwards
      both ways and appends every byte sent to the backend to FILE.
"""
import socket
import ssl
import sys
import threading
import time

# Bounds, so that a forgotten peer or a silent client cannot hang a test.
IDLE = 300          # seconds a connection may stay silent
UNUSED = 1800       # seconds without a connection, and the peer ends
MAX_CONNECTIONS = 5000

MARK = b"EVIL-MARK \x1b[2J\x1b]0;owned\x07"
FORGED = {
    "smtp": b"250 INJECTED-RESPONSE\r\n",
    "imap": b"* OK INJECTED-RESPONSE\r\n",
    "pop3": b"+OK INJECTED-RESPONSE\r\n",
    "http-upgrade": b"HTTP/1.1 200 INJECTED-RESPONSE\r\n\r\n",
    "ftp": b"230 INJECTED-RESPONSE\r\n",
    "lmtp": b"250 INJECTED-RESPONSE\r\n",
    "nntp": b"200 INJECTED-RESPONSE\r\n",
    "sieve": b'OK "INJECTED-RESPONSE"\r\n',
    "xmpp": b"<message><body>INJECTED</body></message>",
}
SIEVE_CAPS = (b'"IMPLEMENTATION" "linepeer"\r\n"SASL" "PLAIN"\r\n'
              b'"SIEVE" "fileinto"\r\n"VERSION" "1.0"\r\n')
ARTICLE = (b"From: poster@example.org\r\nNewsgroups: test.group\r\n"
           b"Subject: hello news\r\nMessage-ID: <1@linepeer>\r\n\r\n"
           b"the body of the test article\r\n..a dot-stuffed line\r\n")


def readline(f, log=None):
    line = f.readline(8192)
    if not line:
        raise EOFError
    if log:
        with open(log, "ab") as out:
            out.write(line)
    return line


def read_exact(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def drain(c, seconds=10):
    """Leave the relay time to see what it got, then go."""
    end = time.monotonic() + seconds
    c.settimeout(seconds)
    while time.monotonic() < end and c.recv(4096):
        pass


# --- The clear-text part of each STARTTLS server.  Each takes the socket,
# a line reader, whether the switch is offered and whether to forge; it
# returns the switch's (yes, no) replies once the switch command was read,
# or None when the switch was not offered.

def switch(offer, read, yes, no):
    if not offer:
        return None
    read()
    return yes, no


def smtp(c, read, offer, evil):
    c.sendall(b"220-fake.test ESMTP\r\n220 " + (MARK if evil else b"ready") +
              b"\r\n")
    read()
    c.sendall(b"250-fake.test\r\n250-PIPELINING\r\n" +
              (b"250-STARTTLS\r\n" if offer else b"") + b"250 SIZE 1000\r\n")
    return switch(offer, read, b"220 2.0.0 go\r\n", b"454 4.7.0 not now\r\n")


def imap(c, read, offer, evil):
    caps = b"IMAP4rev1 X-STALE-CAP" + (b" STARTTLS" if offer else b"")
    if evil:
        c.sendall(b"* OK [ALERT] Your password expired, see evil.example " +
                  MARK + b"\r\n")
    else:
        c.sendall(b"* OK [CAPABILITY " + caps + b"] fake ready\r\n")
    line = read()
    if b"CAPABILITY" in line:
        c.sendall(b"* CAPABILITY " + caps + b"\r\na1 OK done\r\n")
        if not offer:
            return None
        line = read()
    tag = line.split(b" ")[0]
    return (tag + (b" OK [REFERRAL imap://evil/] begin TLS\r\n" if evil
                   else b" OK begin TLS\r\n"), tag + b" NO not now\r\n")


def pop3(c, read, offer, evil):
    c.sendall(b"+OK " + (MARK + b" <1896.697170952@evil.example>" if evil
                         else b"fake ready") + b"\r\n")
    read()
    c.sendall(b"+OK\r\nUSER\r\nX-STALE-CAP\r\n" +
              (b"STLS\r\n" if offer else b"") + b".\r\n")
    return switch(offer, read, b"+OK begin TLS\r\n", b"-ERR not now\r\n")


def ftp(c, read, offer, evil):
    c.sendall(b"220 " + (MARK if evil else b"fake") + b"\r\n")
    read()
    c.sendall(b"211-Features:\r\n" + (b" AUTH TLS\r\n" if offer else b"") +
              b" X-STALE-CAP\r\n211 End\r\n")
    return switch(offer, read, b"234 go\r\n", b"431 not now\r\n")


def http_upgrade(c, read, offer, evil):
    while read() not in (b"\r\n", b"\n"):
        pass
    no = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    if not offer:
        c.sendall(no)
        return None
    return (b"HTTP/1.1 101 Switching Protocols\r\n" +
            (b"X-Evil: " + MARK + b"\r\n" if evil else b"") +
            b"Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", no)


def lmtp(c, read, offer, evil):
    c.sendall(b"220 " + (MARK if evil else b"linepeer") + b" LMTP ready\r\n")
    read()
    c.sendall(b"250-linepeer\r\n" + (b"250-STARTTLS\r\n" if offer else b"") +
              b"250 PIPELINING\r\n")
    return switch(offer, read, b"220 2.0.0 go\r\n", b"454 4.7.0 not now\r\n")


def nntp(c, read, offer, evil):
    c.sendall(b"200 " + (MARK if evil else b"linepeer") + b" news ready\r\n")
    read()
    c.sendall(b"101 Capability list:\r\nVERSION 2\r\nREADER\r\n" +
              (b"STARTTLS\r\n" if offer else b"") + b".\r\n")
    return switch(offer, read, b"382 Continue with TLS negotiation\r\n",
                  b"580 no TLS\r\n")


def sieve(c, read, offer, evil):
    c.sendall(SIEVE_CAPS + (b'"STARTTLS"\r\n' if offer else b"") +
              b'"X-EVIL" "' + (MARK if evil else b"linepeer") +
              b'"\r\nOK "linepeer ready"\r\n')
    return switch(offer, read, b'OK "go"\r\n', b'NO "not now"\r\n')


def postgres(c, read, offer, evil):
    if read_exact(c, 8) != b"\x00\x00\x00\x08\x04\xd2\x16\x2f":
        raise EOFError      # not an SSLRequest
    return b"S", b"N"


LDAP_OID = b"1.3.6.1.4.1.1466.20037"


def tlv(tag, value):
    assert len(value) < 128
    return bytes([tag, len(value)]) + value


def ldap_response(code, diag):
    op = tlv(0x0a, bytes([code])) + tlv(4, b"") + tlv(4, diag) + \
        (tlv(0x8a, LDAP_OID) if code == 0 else b"")
    return tlv(0x30, tlv(2, b"\x01") + tlv(0x78, op))


def ldap(c, read, offer, evil):
    head = read_exact(c, 2)
    read_exact(c, head[1])
    diag = MARK if evil else b""
    return ldap_response(0, diag), ldap_response(2, diag)


def xmpp(c, read, offer, evil):
    c.recv(4096)    # the stream header
    c.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              b"xmlns:stream='http://etherx.jabber.org/streams' id='1' "
              b"version='1.0'><stream:features>" +
              (b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
               if offer else b"") + b"</stream:features>")
    if not offer:
        return None
    c.recv(4096)    # <starttls/>
    return (b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
            b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")


OPENINGS = {"smtp": smtp, "imap": imap, "pop3": pop3, "ftp": ftp,
            "http-upgrade": http_upgrade, "lmtp": lmtp, "nntp": nntp,
            "sieve": sieve, "postgres": postgres, "ldap": ldap, "xmpp": xmpp}
FORGED.update({
    # postgres: an AuthenticationOk, as if the server had accepted a login
    "postgres": b"R\x00\x00\x00\x08\x00\x00\x00\x00INJECTED",
    # ldap: a BindResponse success for message 2
    "ldap": tlv(0x30, tlv(2, b"\x02") + tlv(0x61, tlv(0x0a, b"\x00") +
                tlv(4, b"") + tlv(4, b"INJECTED"))),
})
# What the server says first inside TLS.
TLS_HELLO = {"sieve": SIEVE_CAPS + b'OK "tls-ok"\r\n', "nntp": b"",
             "ftp": b"",
             "postgres": b"tls-ok\n", "ldap": b"tls-ok\n"}


def starttls(c, proto, mode, cert, key, log=None):
    f = c.makefile("rb")
    replies = OPENINGS[proto](c, lambda: readline(f, log),
                              mode != "notoffered", mode == "forged")
    if replies is None or mode == "refuse":
        if replies:
            c.sendall(replies[1])
        drain(c)
        return
    if mode == "close":
        return
    yes = replies[0]
    c.sendall(yes + FORGED[proto] if mode == "inject" else yes)
    if mode == "inject-later":
        # Once the reply was read: the relay's ClientHello is here.
        c.settimeout(10)
        c.recv(1, socket.MSG_PEEK)
        c.sendall(FORGED[proto])
    if mode in ("ok", "forged"):
        tls_session(c, proto, cert, key)
    else:
        drain(c)


def tls_session(c, proto, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    t = ctx.wrap_socket(c, server_side=True)
    try:
        in_tls(t, proto)
    except (EOFError, OSError):
        pass
    try:
        t.unwrap()
    except (OSError, ValueError):
        pass


def in_tls(t, proto):
    f = t.makefile("rb")
    if proto == "http-upgrade":
        # RFC 2817 3.3: the upgraded OPTIONS * is answered over TLS (with a
        # body, which the relay must drop too); then requests come.
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\noptions\n")
        request = readline(f)
        while readline(f) not in (b"\r\n", b"\n"):
            pass
        body = b"over TLS you asked for " + request.split(b" ")[1] + b"\n"
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
        return
    t.sendall(TLS_HELLO.get(proto, b"tls-ok\r\n"))
    while True:
        line = readline(f)
        if proto == "nntp" and line.upper().startswith(b"CAPABILITIES"):
            line = nntp_answer(line)
        # The client role's PBSZ 0 and PROT P, before its greeting.
        if proto == "ftp" and line[:4].upper() in (b"PBSZ", b"PROT"):
            line = b"200 ok\r\n"
        t.sendall(line)


def nntp_answer(line):
    words = line.split()
    cmd = words[0].upper() if words else b""
    if cmd == b"CAPABILITIES":
        return (b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\n"
                b"AUTHINFO USER\r\nLIST ACTIVE NEWSGROUPS\r\n.\r\n")
    if cmd == b"MODE":
        return b"200 reader mode, posting allowed\r\n"
    if cmd == b"AUTHINFO" and len(words) > 1 and words[1].upper() == b"USER":
        return b"381 password please\r\n"
    if cmd == b"AUTHINFO":
        return b"281 authentication accepted\r\n"
    if cmd == b"GROUP":
        return b"211 1 1 1 test.group\r\n"
    if cmd == b"LISTGROUP":
        return b"211 1 1 1 test.group list follows\r\n1\r\n.\r\n"
    if cmd == b"LIST":
        return b"215 list follows\r\ntest.group 1 1 y\r\n.\r\n"
    if cmd in (b"ARTICLE", b"BODY", b"HEAD"):
        return b"220 1 <1@linepeer> article\r\n" + ARTICLE + b".\r\n"
    if cmd == b"DATE":
        return b"111 20260101000000\r\n"
    if cmd == b"POST":
        return b"340 send the article\r\n"
    if cmd == b"QUIT":
        return b"205 bye\r\n"
    return b"500 unknown command\r\n"


RECORD_GREETING = {
    "smtp": b"220 recorder ESMTP\r\n", "imap": b"* OK recorder\r\n",
    "pop3": b"+OK recorder\r\n", "http-upgrade": b"",
    "lmtp": b"220 recorder LMTP\r\n", "nntp": b"200 recorder\r\n",
    "sieve": b'"IMPLEMENTATION" "recorder"\r\nOK\r\n',
    "ftp": b"220 recorder\r\n"}
RECORD_REPLY = {"smtp": b"250 ok\r\n", "lmtp": b"250 ok\r\n",
                "pop3": b"+OK\r\n", "nntp": b"200 ok\r\n", "sieve": b"OK\r\n",
                "ftp": b"200 ok\r\n"}


def record(c, proto, path):
    f = c.makefile("rb")
    c.sendall(RECORD_GREETING[proto])
    with open(path, "ab", buffering=0) as log:
        for line in f:
            log.write(line)
            if proto in RECORD_REPLY:
                c.sendall(RECORD_REPLY[proto])
            elif proto == "imap":
                tag, _, cmd = line.partition(b" ")
                # RFC 3501 7.2.1: the capabilities before the tagged OK.
                if cmd.strip().upper() == b"CAPABILITY":
                    c.sendall(b"* CAPABILITY IMAP4rev1\r\n")
                c.sendall(tag + b" OK done\r\n")
            elif line in (b"\r\n", b"\n"):
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
                          b"recorded\n")


def backend(c, proto, path):
    f = c.makefile("rb")
    c.sendall({"lmtp": b"220 linepeer LMTP ready\r\n",
               "nntp": b"200 linepeer news ready, posting allowed\r\n",
               "sieve": SIEVE_CAPS + b'OK "linepeer ready"\r\n'}[proto])
    with open(path, "ab", buffering=0) as log:
        for line in f:
            log.write(line)
            word = line.split(b" ")[0].strip().upper()
            if proto == "lmtp":
                c.sendall(b"250-linepeer\r\n250 PIPELINING\r\n"
                          if word == b"LHLO" else b"250 ok\r\n")
            elif proto == "sieve":
                c.sendall(SIEVE_CAPS + b"OK\r\n" if word == b"CAPABILITY"
                          else b"OK\r\n")
            else:
                c.sendall(nntp_answer(line))
                if word == b"POST":
                    for body in f:
                        log.write(body)
                        if body in (b".\r\n", b".\n"):
                            break
                    c.sendall(b"240 article posted\r\n")
                elif word == b"QUIT":
                    break


def pump(src, dst, log=None):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if log is not None:
                log.write(data)
            dst.sendall(data)
    except OSError:
        pass        # a side that resets ends both directions
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def echo(c):
    pump(c, c)


def tap(c, port, path):
    with socket.create_connection(("127.0.0.1", int(port)), IDLE) as b, \
            open(path, "ab", buffering=0) as log:
        back = threading.Thread(target=pump, args=(b, c), daemon=True)
        back.start()
        pump(c, b, log)
        back.join(IDLE)


def serve(c, fn, args):
    c.settimeout(IDLE)
    try:
        fn(c, *args)
    except (EOFError, OSError):
        pass        # clients that reset are part of the tests
    finally:
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        c.close()


def main():
    fn = {"starttls": starttls, "record": record, "backend": backend,
          "echo": echo, "tap": tap}[sys.argv[1]]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1024)    # the load tests open hundreds at once
    srv.settimeout(UNUSED)
    print(srv.getsockname()[1], flush=True)
    for _ in range(MAX_CONNECTIONS):
        try:
            c, _ = srv.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve, args=(c, fn, sys.argv[2:]),
                         daemon=True).start()


if __name__ == "__main__":
    main()
