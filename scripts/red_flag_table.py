#!/usr/bin/env python3
"""Per-red-flag recall on a set of wordings: how many affirmed wordings raise their flag, and how
many denied ones (and messages with no flag) raise none.

Reads cases from a TOML file with [[case]] tables (tests/it/data/red_flags.toml: `tags` name the
flag and the kind, `red_flags` lists what the text affirms) or from JSON Lines with `text`,
`red_flags` and `kind` ("affirmed", "negated" or "none"). Every case goes through the batch
contract, so this measures what users get:

    cargo build --release
    python3 scripts/red_flag_table.py tests/it/data/red_flags.toml
    python3 scripts/red_flag_table.py some.jsonl -- target/release/crampbot ask --format json --batch
"""

import json
import subprocess
import sys
import tomllib
from collections import defaultdict

DEFAULT_CMD = ["target/release/crampbot", "ask", "--format", "json", "--batch"]


def load(path):
    if path.endswith(".toml"):
        with open(path, "rb") as f:
            cases = tomllib.load(f)["case"]
        for case in cases:
            tags = case.get("tags", [])
            kind = "affirmed" if "affirmed" in tags else "negated" if case.get("red_flags") == [] else "none"
            named = [t for t in tags if t.endswith("_signs")]
            yield case["text"], case.get("red_flags", []), kind, named
    else:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    case = json.loads(line)
                    yield case["text"], case.get("red_flags", []), case["kind"], []


def main():
    args = sys.argv[1:]
    cmd = args[args.index("--") + 1 :] if "--" in args else DEFAULT_CMD
    path = args[0]
    cases = list(load(path))
    lines = "".join(json.dumps({"id": i, "text": text}) + "\n" for i, (text, *_) in enumerate(cases))
    out = subprocess.run(cmd, input=lines, capture_output=True, text=True, check=True).stdout
    raised = {}
    for line in out.splitlines():
        reply = json.loads(line)
        raised[reply["id"]] = {flag["id"] for flag in reply.get("red_flags", [])}

    affirmed = defaultdict(lambda: [0, 0])  # flag -> [caught, cases]
    denied = defaultdict(lambda: [0, 0])  # flag -> [raised anyway, cases]
    quiet = [0, 0]  # messages with no flag at all: [raised something, cases]
    misses = []
    for i, (text, expected, kind, named) in enumerate(cases):
        got = raised.get(i, set())
        if expected:
            for flag in expected:
                affirmed[flag][1] += 1
                affirmed[flag][0] += flag in got
                if flag not in got:
                    misses.append(f"missed {flag}: {text}")
        elif kind == "negated" and named:
            for flag in named:
                denied[flag][1] += 1
                denied[flag][0] += bool(got)
                if got:
                    misses.append(f"raised {sorted(got)} on denied {flag}: {text}")
        else:
            quiet[1] += 1
            quiet[0] += bool(got)
            if got:
                misses.append(f"raised {sorted(got)} on no flag: {text}")

    print("| red flag | affirmed caught | denied, raised anyway |")
    print("| --- | --- | --- |")
    for flag in sorted(set(affirmed) | set(denied)):
        caught, total = affirmed[flag]
        wrong, denials = denied[flag]
        print(f"| {flag} | {caught}/{total} | {wrong}/{denials} |" if denials else f"| {flag} | {caught}/{total} | |")
    caught = sum(c for c, _ in affirmed.values())
    total = sum(t for _, t in affirmed.values())
    print(f"| all | {caught}/{total} ({caught / max(total, 1):.1%}) | false alarms on messages with no flag: {quiet[0]}/{quiet[1]} |")
    for miss in misses:
        print(miss, file=sys.stderr)


if __name__ == "__main__":
    main()
