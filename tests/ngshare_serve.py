"""Serve the real ngshare on 127.0.0.1:<ephemeral> (run by tests/ngshare_harness.py with venv-nbgrader's
Python; not a test module). Prints the port, then serves until terminated.

ngshare's own `main` listens on 0.0.0.0 (for the hub's proxy); tests must stay on loopback, so this runs
ngshare's database upgrade and application exactly as `main` does, but binds 127.0.0.1.
Arguments: <database url> <storage dir> <comma-separated admins>.
"""

import sys
from collections import namedtuple

from ngshare import dbutil
from ngshare.ngshare import MyApplication
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

PREFIX = "/services/ngshare/"


def main() -> None:
    database, storage, admins = sys.argv[1:4]
    dbutil.upgrade(database, cmd_opts=namedtuple("CmdOpts", ["x"])(["data=true", f"storage={storage}"]))
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(MyApplication(PREFIX, database, storage, admin=admins.split(",")))
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    IOLoop.current().start()


if __name__ == "__main__":
    main()
