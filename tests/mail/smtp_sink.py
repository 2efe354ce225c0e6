#!/usr/bin/python3
"""smtp_sink.py - a real SMTP server for kindling's mail tests (Debian's
python3-aiosmtpd; run it with /usr/bin/python3, Debian's, which has it).

    /usr/bin/python3 smtp_sink.py --dir DIR [--port N] [--tls-cert C --tls-key K]
                                  [--auth USER:PASSWORD]

Listens on 127.0.0.1 (port N, or a free one), writes the port to DIR/port
once it listens, and keeps every message it accepts as DIR/NNNN.eml (the
bytes as received) with DIR/NNNN.json ({"from", "to", "n"}): a message is
written before the 250 that accepts it, as a real mail server commits it.

How it answers is read from DIR/mode before each command that can fail,
so a test changes it while the sink runs:
    ok              accept (the default, also with no file)
    tempfail        451 after DATA ("try again later")
    permfail        550 at RCPT TO ("no such user")
    slow SECONDS    keep the message, then wait before the 250 (a client
                    killed meanwhile has handed the message over)
    stall SECONDS   wait before the greeting (a client killed meanwhile
                    has sent nothing)
With --tls-cert/--tls-key it offers STARTTLS and requires it; with --auth
it requires AUTH PLAIN or LOGIN with that user and password (after
STARTTLS when TLS is on).
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def mode(folder):
    try:
        with open(os.path.join(folder, "mode")) as f:
            words = f.read().split()
    except FileNotFoundError:
        return ("ok", 0.0)
    if not words:
        return ("ok", 0.0)
    return (words[0], float(words[1]) if len(words) > 1 else 0.0)


class Handler:
    def __init__(self, folder):
        self.folder = folder

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if mode(self.folder)[0] == "permfail":
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        how, seconds = mode(self.folder)
        if how == "tempfail":
            return "451 4.3.0 try again later"
        n = len([f for f in os.listdir(self.folder) if f.endswith(".eml")]) + 1
        base = os.path.join(self.folder, "%04d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "n": n}, f)
        if how == "slow":
            await asyncio.sleep(seconds)
        return "250 2.0.0 kept as %04d" % n


class Stalling(SMTP):
    async def _handle_client(self):
        how, seconds = mode(self.event_handler.folder)
        if how == "stall":
            await asyncio.sleep(seconds)
        await super()._handle_client()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth")
    a = p.parse_args()
    tls = None
    if a.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.tls_cert, a.tls_key)
    user = password = None
    if a.auth:
        user, password = a.auth.split(":", 1)

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and \
            data.login.decode() == user and data.password.decode() == password
        # (issue 16, H1: handled=False, so a refusal is answered with
        # 535; aiosmtpd's default, handled=True, answers nothing and the
        # client waits for ever)
        return AuthResult(success=ok, handled=False)

    handler = Handler(a.dir)

    def factory():
        return Stalling(handler, hostname="sink.test", tls_context=tls,
                        require_starttls=tls is not None,
                        authenticator=authenticator if user else None,
                        auth_required=user is not None,
                        auth_require_tls=tls is not None,
                        decode_data=False, data_size_limit=20 * 1024 * 1024)

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", a.port, reuse_address=True)
        port = server.sockets[0].getsockname()[1]
        with open(os.path.join(a.dir, "port.tmp"), "w") as f:
            f.write("%d\n" % port)
        os.rename(os.path.join(a.dir, "port.tmp"), os.path.join(a.dir, "port"))
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
