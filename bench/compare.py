"""Compares iso20k's ticket findings with the DuckDB reference; prints true or false and, when
they differ, what differs on stderr.

usage: compare.py ISO20K.json DUCKDB.json
"""

import json
import sys

iso = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))
found = {f["check"]: f for f in iso["findings"]}
differences = []
for check, want in ref["checks"].items():
    f = found.get(check)
    got_affected = f.get("affected") if f else 0
    if got_affected != want["affected"]:
        differences.append(f"{check}: iso20k {got_affected} affected, duckdb {want['affected']}")
    elif f and "population" in want and f.get("population") != want["population"]:
        differences.append(f"{check}: iso20k examined {f.get('population')}, duckdb {want['population']}")
p1 = found.get("major-incident-no-problem")
ids = sorted(e["id"] for e in p1["evidence"]) if p1 else []
if ids != ref["major_incidents_without_problem"]:
    differences.append(f"major-incident-no-problem ids: iso20k {len(ids)}, duckdb {len(ref['major_incidents_without_problem'])}")
for d in differences:
    print(d, file=sys.stderr)
print("true" if not differences else "false")
