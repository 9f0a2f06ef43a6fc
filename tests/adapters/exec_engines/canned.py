"""A fake exec engine for the protocol tests: replies to the handshake with a valid tape
and to any other scenario with the tape in the file named by its first argument.

Usage: canned.py TAPE_FILE [--exit N] [--sleep SECONDS] [--stderr TEXT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

HELLO = {"kind": "hello", "protocol": 1, "reserves_cash": True, "reports_equity": True}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("tape")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--stderr", default="")
    args = parser.parse_args()
    scenario = json.loads(sys.stdin.read())
    if scenario["bars"][0]["symbol"] == "CASHFUZZ":  # the handshake
        with open(args.tape, "rb") as stream:
            first = stream.readline()
        sys.stdout.buffer.write(first.rstrip(b"\n") + b'\n{"kind": "end", "events": 0}\n')
        return 0
    with open(args.tape, "rb") as stream:
        sys.stdout.buffer.write(stream.read())
    sys.stdout.flush()
    sys.stderr.write(args.stderr)
    sys.stderr.flush()
    time.sleep(args.sleep)
    return args.exit


if __name__ == "__main__":
    raise SystemExit(main())
