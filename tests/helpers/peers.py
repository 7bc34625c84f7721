#!/usr/bin/env python3
"""Plain backends and TLS clients for the integration tests (Python 3
standard library only; loopback only; every wait bounded).

Servers print their port on the first line of stdout, then events.

  echo [--log FILE]
      TCP echo server, any number of connections at once.  On EOF from a
      client it finishes echoing, then half-closes.  With --log it appends
      "open K" / "close K" lines to FILE.

  serve --send FILE --save FILE [--expect N]
      One connection: sends FILE while saving what it receives.  Then, with
      --expect, it closes once N bytes have arrived (or EOF); without, it
      half-closes (FIN) and reads until EOF.  Prints "done sent=S got=G eof=E".

  flood [--stall SECONDS] [--limit BYTES]
      One connection: writes as fast as it can (non-blocking) until its
      writes have been blocked for SECONDS (default 2) or LIMIT bytes
      (default 1 GiB) went out; prints "pushed N"; then holds the connection
      until stdin ends (at most 300 s).

  stall PORT (--cafile FILE | --pin PIN) [--name NAME]
      TLS client that never reads (tiny receive buffer): handshake, prints
      "connected", then waits for EOF on stdin (at most 300 s).

  load PORT N SIZE (--cafile FILE | --pin PIN) [--name NAME]
      N TLS sessions at once, each sends SIZE distinct bytes and checks the
      echo; prints "ok GOOD/N".

  maxsess PORT --log FILE (--cafile FILE | --pin PIN) [--name NAME]
      Three TLS clients A, B, C against a relay limited to two sessions;
      appends its events to FILE (shared with "echo --log"); prints "done".
"""
import argparse
import asyncio
import base64
import hashlib
import os
import select
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"


def log_line(path, text):
    """One write(2) per line with O_APPEND: lines from two processes stay
    whole and in the order they happened."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, 0))
    s.listen(1024)
    print(s.getsockname()[1], flush=True)
    return s


# --- DER, just enough to find the SubjectPublicKeyInfo --------------------

def der_item(buf, pos):
    """(tag, start of contents, end of item) of the item at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def spki_pin(der):
    """sha256:BASE64 of the certificate's SubjectPublicKeyInfo."""
    _, c, _ = der_item(der, 0)          # Certificate
    _, p, _ = der_item(der, c)          # TBSCertificate contents
    tag, _, end = der_item(der, p)
    if tag == 0xA0:                     # [0] version
        p = end
    for _ in range(5):                  # serial, sigalg, issuer, validity, subject
        _, _, p = der_item(der, p)
    _, _, end = der_item(der, p)
    digest = hashlib.sha256(der[p:end]).digest()
    return "sha256:" + base64.b64encode(digest).decode()


def client_context(args):
    if args.cafile:
        ctx = ssl.create_default_context(cafile=args.cafile)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_pin(args, tls):
    if args.pin:
        got = spki_pin(tls.getpeercert(binary_form=True))
        if got != args.pin:
            raise ssl.SSLError("pin mismatch: the server's key is " + got)


def tls_connect(args, port, rcvbuf=None, timeout=60):
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(timeout)
    raw.connect((HOST, port))
    tls = client_context(args).wrap_socket(raw, server_hostname=args.name)
    check_pin(args, tls)
    return tls


def stdin_eof(limit):
    """Wait until stdin ends, at most limit seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([sys.stdin], [], [], 1.0)
        if r and not os.read(sys.stdin.fileno(), 4096):
            return


# --- servers -------------------------------------------------------------

def cmd_echo(args):
    counter = [0]

    async def handle(reader, writer):
        counter[0] += 1
        k = counter[0]
        if args.log:
            log_line(args.log, "open %d" % k)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            if args.log:
                log_line(args.log, "close %d" % k)

    async def main():
        srv = await asyncio.start_server(handle, HOST, 0, backlog=1024)
        print(srv.sockets[0].getsockname()[1], flush=True)
        async with srv:
            await srv.serve_forever()

    asyncio.run(main())


def cmd_serve(args):
    srv = listener()
    srv.settimeout(300)
    conn, _ = srv.accept()
    conn.settimeout(300)
    state = {"got": 0, "eof": False}
    enough = threading.Event()

    def receive():
        with open(args.save, "wb") as out:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    break
                if not data:
                    state["eof"] = True
                    break
                out.write(data)
                out.flush()
                state["got"] += len(data)
                if args.expect is not None and state["got"] >= args.expect:
                    break
        enough.set()

    t = threading.Thread(target=receive, daemon=True)
    t.start()
    sent = 0
    try:
        with open(args.send, "rb") as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
                sent += len(chunk)
    except OSError as e:
        print("send failed: %s" % e, flush=True)
    if args.expect is None:
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    enough.wait(300)
    conn.close()
    print("done sent=%d got=%d eof=%d" % (sent, state["got"], state["eof"]),
          flush=True)


def cmd_flood(args):
    srv = listener()
    srv.settimeout(300)
    conn, _ = srv.accept()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    conn.setblocking(False)
    chunk = os.urandom(65536)
    total = 0
    while total < args.limit:
        _, w, _ = select.select([], [conn], [], args.stall)
        if not w:
            break
        try:
            total += conn.send(chunk)
        except BlockingIOError:
            continue
        except OSError as e:
            print("send failed: %s" % e, flush=True)
            break
    print("pushed %d" % total, flush=True)
    stdin_eof(300)
    conn.close()


# --- clients -------------------------------------------------------------

def cmd_stall(args):
    tls = tls_connect(args, args.port, rcvbuf=4096)
    print("connected", flush=True)
    stdin_eof(300)
    tls.close()


def cmd_load(args):
    ctx = client_context(args)

    async def one(i):
        # Distinct for every session: its number, then random bytes.
        payload = b"session %06d\n" % i + os.urandom(args.size)
        reader, writer = await asyncio.open_connection(
            HOST, args.port, ssl=ctx, server_hostname=args.name)
        check_pin(args, writer.get_extra_info("ssl_object"))
        writer.write(payload)
        await writer.drain()
        got = await reader.readexactly(len(payload))
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
        if got != payload:
            raise ValueError("session %d: the echo differs" % i)
        return True

    async def main():
        return await asyncio.wait_for(asyncio.gather(
            *(one(i) for i in range(args.n)), return_exceptions=True), 240)

    try:
        results = asyncio.run(main())
    except asyncio.TimeoutError:
        print("ok 0/%d (timed out)" % args.n, flush=True)
        return
    good = sum(1 for r in results if r is True)
    bad = [r for r in results if r is not True]
    for r in bad[:3]:
        print("# %r" % (r,), file=sys.stderr)
    print("ok %d/%d" % (good, args.n), flush=True)


def cmd_maxsess(args):
    log = args.log

    def event(text):
        log_line(log, text)

    def echo_line(tls, name):
        tls.sendall(name.encode() + b"\n")
        got = b""
        while not got.endswith(b"\n"):
            data = tls.recv(100)
            if not data:
                break
            got += data
        return got == name.encode() + b"\n"

    clients = {}
    for name in ("A", "B"):
        clients[name] = tls_connect(args, args.port)
        event("%s handshake" % name)
        event("%s echoed" % name if echo_line(clients[name], name)
              else "%s bad echo" % name)

    # C connects (the kernel completes TCP from the backlog) and starts its
    # handshake, which the relay answers only once it accepts C.
    done = threading.Event()

    def third():
        try:
            clients["C"] = tls_connect(args, args.port, timeout=120)
            event("C handshake")
            event("C echoed" if echo_line(clients["C"], "C")
                  else "C bad echo")
        except (OSError, ssl.SSLError) as e:
            event("C failed %s" % e)
        done.set()

    threading.Thread(target=third, daemon=True).start()
    # Give C a fair chance to (wrongly) get through while A and B run.  If
    # it does, "C handshake" lands before "A closing" in the log.  This
    # wait decides nothing by itself: only the order of the events does.
    done.wait(2)
    event("A closing")
    try:
        clients["A"].unwrap()
    except (OSError, ssl.SSLError):
        pass
    clients["A"].close()
    done.wait(120)
    for name in ("B", "C"):
        if name in clients:
            event("%s closing" % name)
            clients[name].close()
    print("done", flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    def tls_opts(sp):
        sp.add_argument("--cafile")
        sp.add_argument("--pin")
        sp.add_argument("--name", default="localhost")

    sp = sub.add_parser("echo")
    sp.add_argument("--log")
    sp = sub.add_parser("serve")
    sp.add_argument("--send", required=True)
    sp.add_argument("--save", required=True)
    sp.add_argument("--expect", type=int)
    sp = sub.add_parser("flood")
    sp.add_argument("--stall", type=float, default=2.0)
    sp.add_argument("--limit", type=int, default=1 << 30)
    sp = sub.add_parser("stall")
    sp.add_argument("port", type=int)
    tls_opts(sp)
    sp = sub.add_parser("load")
    sp.add_argument("port", type=int)
    sp.add_argument("n", type=int)
    sp.add_argument("size", type=int)
    tls_opts(sp)
    sp = sub.add_parser("maxsess")
    sp.add_argument("port", type=int)
    sp.add_argument("--log", required=True)
    tls_opts(sp)
    args = p.parse_args()
    globals()["cmd_" + args.cmd](args)


if __name__ == "__main__":
    main()
