#!/usr/bin/python3
"""Runs one MongoDB command from a shell test and prints the reply as JSON.

usage: mongo_cmd.py [--expect-error] URI DATABASE COMMAND_JSON

Exits 1 when the server refuses the command (`ok` is not 1, or the reply carries
writeErrors or a writeConcernError), so a failed setup step fails its test; with
--expect-error it exits 1 when the command did NOT fail. The reply is printed either way.

Speaks OP_MSG directly (Debian's python3-bson, no driver), so it works the same against
the test stand-in and a real mongod without authentication. Key order of COMMAND_JSON is
kept, since a command's first key names it.
"""
import json
import socket
import struct
import sys
import urllib.parse

import bson
from bson.codec_options import CodecOptions
from bson.son import SON

OP_MSG = 2013


def host_port(uri):
    parsed = urllib.parse.urlparse(uri)
    host = parsed.netloc.rsplit("@", 1)[-1].split(",")[0]
    name, _, port = host.partition(":")
    return name or "127.0.0.1", int(port or 27017)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return data


def run(uri, database, command):
    command["$db"] = database
    body = bson.BSON.encode(command)
    payload = struct.pack("<I", 0) + b"\x00" + body
    header = struct.pack("<iiii", 16 + len(payload), 1, 0, OP_MSG)
    with socket.create_connection(host_port(uri), timeout=10) as sock:
        sock.sendall(header + payload)
        length, _, _, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
        reply = recv_exact(sock, length - 16)
    if opcode != OP_MSG:
        raise RuntimeError("unexpected reply opcode %d" % opcode)
    # flagBits (4 bytes), then section kind 0 and the body document
    return bson.decode(reply[5:], CodecOptions(document_class=SON))


def refused(reply):
    return reply.get("ok") != 1 or "writeErrors" in reply or "writeConcernError" in reply


def main():
    args = sys.argv[1:]
    expect_error = bool(args) and args[0] == "--expect-error"
    if expect_error:
        args = args[1:]
    if len(args) != 3:
        sys.exit(__doc__)
    command = json.loads(args[2], object_pairs_hook=SON)
    reply = run(args[0], args[1], command)
    # bson's json_util needs pymongo; plain json with str() for the odd types is enough
    print(json.dumps(reply, default=str))
    if refused(reply) and not expect_error:
        print("mongo_cmd.py: the server refused %s: %s" % (args[2][:200], json.dumps(reply, default=str)[:500]),
              file=sys.stderr)
        return 1
    if expect_error and not refused(reply):
        print("mongo_cmd.py: expected an error from %s, the server answered ok" % args[2][:200], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
