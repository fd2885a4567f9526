#!/usr/bin/python3
"""Validate oisp-sensor JSON Lines output against schemas/oisp-event.schema.json.

usage: validate-events.py [--schema PATH] FILE.jsonl [FILE.jsonl ...]

Every line must be one JSON object that validates (JSON Schema draft
2020-12, with "format" checked where jsonschema can).  Each problem is
printed as FILE:LINE: PATH: MESSAGE.  Exit status: 0 all valid, 1 some
line invalid, 2 usage or I/O error.  Run with Debian's /usr/bin/python3
(python3-jsonschema).
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("validate-events.py: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "schemas", "oisp-event.schema.json")


def path_of(err):
    parts = [str(p) for p in err.absolute_path]
    return "/" + "/".join(parts) if parts else "/"


def validate_file(validator, name):
    """Returns the number of invalid lines; raises OSError."""
    bad = 0
    with open(name, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                print(f"{name}:{lineno}: /: not valid UTF-8 ({e.reason} at byte {e.start})")
                bad += 1
                continue
            if not raw.endswith(b"\n"):
                print(f"{name}:{lineno}: /: line is not terminated by a newline")
                bad += 1
            if not text.strip():
                print(f"{name}:{lineno}: /: empty line")
                bad += 1
                continue
            try:
                ev = json.loads(text)
            except json.JSONDecodeError as e:
                print(f"{name}:{lineno}: /: not JSON: {e.msg} at column {e.colno}")
                bad += 1
                continue
            errors = sorted(validator.iter_errors(ev), key=lambda e: list(e.absolute_path))
            for err in errors:
                print(f"{name}:{lineno}: {path_of(err)}: {err.message}")
            if errors:
                bad += 1
    return bad


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("files", nargs="+", metavar="FILE.jsonl")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        with open(args.schema) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"validate-events.py: {args.schema}: {e}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    bad = 0
    for name in args.files:
        try:
            bad += validate_file(validator, name)
        except OSError as e:
            print(f"validate-events.py: {name}: {e.strerror}", file=sys.stderr)
            return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
