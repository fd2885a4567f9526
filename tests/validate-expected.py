#!/usr/bin/python3
"""Checks captured OISP events against a cookbook's expected-events.json.

Usage:
    validate-expected.py EVENTS.jsonl EXPECTED-EVENTS.json

expected-events.json (the cookbook's format):
    {"description": "...",
     "minimum_events": 4,
     "events": [{"event_type": "ai.request",
                 "required_fields": {"data.provider.name": "openai", ...}}, ...]}

- The events file must hold at least minimum_events events.
- Each entry passes when some event of its event_type matches every
  required field.  Fields are dotted paths (a list index may be a path
  element: "data.choices.0.finish_reason").
- Matchers: "*" present and not null; "> N", ">= N", "< N", "<= N" numeric
  comparison (booleans are not numbers); "/re/" the regex matches from the
  start of the value; "string", "number", "boolean", "array", "object" type
  checks; anything else equality.

Exit status: 0 every check passed, 1 a check failed, 2 error (missing or
unreadable file, invalid JSON, an expected file not in this format).
"""
import json
import re
import sys

TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
CMP = re.compile(r"^(>=|<=|>|<) (-?[0-9]+(?:\.[0-9]+)?)$")
MISSING = object()


class InputError(Exception):
    pass


def get_path(obj, path):
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
    return cur


def matches(actual, expected):
    if actual is MISSING:
        return False
    if expected == "*":
        return actual is not None
    if isinstance(expected, str):
        m = CMP.match(expected)
        if m:
            if not TYPES["number"](actual):
                return False
            op, n = m.group(1), float(m.group(2))
            return {">": actual > n, ">=": actual >= n,
                    "<": actual < n, "<=": actual <= n}[op]
        if len(expected) >= 2 and expected.startswith("/") and expected.endswith("/"):
            return actual is not None and re.match(expected[1:-1], str(actual)) is not None
        if expected in TYPES:
            return TYPES[expected](actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return actual == expected


def load_events(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("cannot read events file %s: %s" % (path, e))
    events = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise InputError("%s:%d: invalid JSON: %s" % (path, n, e))
        if not isinstance(ev, dict):
            raise InputError("%s:%d: an event is not a JSON object" % (path, n))
        events.append(ev)
    return events


def load_expected(path):
    try:
        with open(path, encoding="utf-8") as f:
            exp = json.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("cannot read expected file %s: %s" % (path, e))
    except ValueError as e:
        raise InputError("%s: invalid JSON: %s" % (path, e))
    if not isinstance(exp, dict):
        raise InputError("%s: not a JSON object" % path)
    mn = exp.get("minimum_events", 0)
    if isinstance(mn, bool) or not isinstance(mn, int) or mn < 0:
        raise InputError("%s: minimum_events must be a non-negative integer" % path)
    entries = exp.get("events", [])
    if not isinstance(entries, list):
        raise InputError("%s: events must be a list" % path)
    for i, e in enumerate(entries, 1):
        if (not isinstance(e, dict) or not isinstance(e.get("event_type"), str)
                or not isinstance(e.get("required_fields", {}), dict)):
            raise InputError("%s: events[%d] needs an event_type string and a "
                             "required_fields object" % (path, i))
        for k, v in e.get("required_fields", {}).items():
            if isinstance(v, str) and len(v) >= 2 and v[0] == "/" and v[-1] == "/":
                try:
                    re.compile(v[1:-1])
                except re.error as err:
                    raise InputError("%s: events[%d] %s: bad regex %s: %s"
                                     % (path, i, k, v, err))
    return exp


def check(events, exp, out=sys.stdout):
    ok = True
    mn = exp.get("minimum_events", 0)
    print("%d events captured, %d expected at least" % (len(events), mn), file=out)
    if len(events) < mn:
        print("FAIL: fewer than minimum_events (%d < %d)" % (len(events), mn), file=out)
        ok = False
    for i, entry in enumerate(exp.get("events", []), 1):
        et = entry["event_type"]
        fields = entry.get("required_fields", {})
        cands = [e for e in events if e.get("event_type") == et]
        hit = next((e for e in cands
                    if all(matches(get_path(e, k), v) for k, v in fields.items())), None)
        if hit is not None:
            print("[%d] PASS %s (event_id %s)" % (i, et, hit.get("event_id")), file=out)
            continue
        ok = False
        print("[%d] FAIL %s: %s" % (i, et, "no event of this type" if not cands
                                    else "none of %d matches every field" % len(cands)),
              file=out)
        # For each field, what the closest candidates had.
        for k, v in fields.items():
            seen = sorted({json.dumps(get_path(e, k) if get_path(e, k) is not MISSING
                                      else "<missing>")[:80] for e in cands[:20]})
            if cands and not any(matches(get_path(e, k), v) for e in cands):
                print("      %s: expected %s, got %s" % (k, json.dumps(v), ", ".join(seen[:5])),
                      file=out)
    print("SUCCESS" if ok else "FAILURE", file=out)
    return ok


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        events = load_events(argv[1])
        exp = load_expected(argv[2])
    except InputError as e:
        print("ERROR: %s" % e, file=sys.stderr)
        return 2
    return 0 if check(events, exp) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
