"""The ticket checks of iso20k, written again in SQL for DuckDB, as the benchmark's reference.

Reads the same CSV files of a bundle and prints, as JSON, for each ticket check the number of
records it finds at fault and the number it examined, plus the ids of the priority-1 incidents
without a problem record. The rules mirror the `doc` strings of the checks in
crates/iso20k-core/src/checks/{incidents,changes,configuration,services}.rs, judged at --as-of.

usage: reference.py BUNDLE --as-of YYYY-MM-DD
"""

import json
import sys
from pathlib import Path

import duckdb
import yaml


def main() -> None:
    bundle = Path(sys.argv[1])
    as_of = sys.argv[sys.argv.index("--as-of") + 1]
    con = duckdb.connect()
    t = bundle / "tickets"

    def load(name: str, file: str) -> None:
        # Every column as text, empty cells as NULL: the same cells iso20k reads.
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv('{t / file}', header = true, all_varchar = true)"
        )

    for name in ["incidents", "problems", "changes", "releases", "cis"]:
        load(name, f"{name}.csv")
    # A reference counts only when it resolves: services by id or name, tickets by id.
    catalogue = yaml.safe_load((bundle / "services.yaml").read_text())["services"]
    known = {s["id"] for s in catalogue} | {s["name"] for s in catalogue}
    con.execute("CREATE TABLE catalogue (name VARCHAR)")
    con.executemany("INSERT INTO catalogue VALUES (?)", [[k] for k in sorted(known)])
    con.execute(f"CREATE MACRO cutoff() AS DATE '{as_of}'")
    con.execute("CREATE MACRO ts(x) AS CAST(x AS TIMESTAMP)")
    con.execute("CREATE MACRO d(x) AS CAST(CAST(x AS TIMESTAMP) AS DATE)")

    def one(sql: str) -> tuple:
        return con.execute(sql).fetchone()

    results = {}

    def check(name: str, population_where: str, affected_where: str, table: str) -> None:
        pop, aff = one(
            f"SELECT count(*), count(*) FILTER (WHERE {affected_where}) FROM {table} WHERE {population_where}"
        )
        results[name] = {"affected": aff, "population": pop}

    check("incident-unclassified", "opened_at IS NULL OR d(opened_at) <= cutoff()",
          "priority IS NULL OR category IS NULL OR ci IS NULL", "incidents")
    check("incident-closed-without-resolution", "closed_at IS NOT NULL AND d(closed_at) <= cutoff()",
          "resolution IS NULL", "incidents")
    major = "(major = 'yes' OR CAST(priority AS INTEGER) <= 1) AND (opened_at IS NULL OR d(opened_at) <= cutoff() - INTERVAL 5 DAY)"
    no_problem = "(problem IS NULL OR problem NOT IN (SELECT id FROM problems))"
    check("major-incident-no-problem", major, no_problem, "incidents")
    p1 = [r[0] for r in con.execute(f"SELECT id FROM incidents WHERE {major} AND {no_problem} ORDER BY id").fetchall()]

    check("breaches-not-reviewed",
          "sla_met = 'no' AND closed_at IS NOT NULL AND d(closed_at) <= cutoff() AND d(closed_at) >= cutoff() - INTERVAL 12 MONTH",
          "breach_review IS NULL", "incidents")

    # A configuration item fires when, on some day, the incidents of the 30 days up to and
    # including that day number three or more and none of them has a problem record.
    pop, aff = one("""
        WITH i AS (
            SELECT ci, d(opened_at) AS day,
                   coalesce(problem IN (SELECT id FROM problems), false)::INTEGER AS p
            FROM incidents WHERE ci IS NOT NULL AND opened_at IS NOT NULL AND d(opened_at) <= cutoff()
        ), w AS (
            SELECT ci,
                   count(*) OVER win AS n,
                   sum(p) OVER win AS with_problem
            FROM i
            WINDOW win AS (PARTITION BY ci ORDER BY day RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND CURRENT ROW)
        )
        SELECT (SELECT count(DISTINCT ci) FROM i),
               (SELECT count(DISTINCT ci) FROM w WHERE n >= 3 AND with_problem = 0)
    """)
    results["recurring-incidents-no-problem"] = {"affected": aff, "population": pop}

    check("problem-no-root-cause", "closed_at IS NOT NULL AND d(closed_at) <= cutoff()", "root_cause IS NULL", "problems")
    check("problem-fix-no-change", "closed_at IS NOT NULL AND d(closed_at) <= cutoff() AND root_cause IS NOT NULL",
          "change IS NULL OR change NOT IN (SELECT id FROM changes)", "problems")
    aff = one("""SELECT count(*) FROM problems
                 WHERE (opened_at IS NULL OR d(opened_at) <= cutoff())
                   AND (closed_at IS NULL OR d(closed_at) > cutoff())
                   AND root_cause IS NOT NULL AND coalesce(known_error, 'no') <> 'yes'""")[0]
    results["known-errors-missing"] = {"affected": aff}

    check("ci-incomplete", "true", "owner IS NULL OR type IS NULL OR service IS NULL OR service NOT IN (SELECT name FROM catalogue)", "cis")
    check("ci-not-verified", "true",
          "last_verified_on IS NULL OR CAST(last_verified_on AS DATE) + INTERVAL 12 MONTH < cutoff()", "cis")

    implemented = "implemented_at IS NOT NULL AND d(implemented_at) <= cutoff() AND coalesce(type, 'normal') <> 'standard'"
    check("change-not-approved", implemented + " AND coalesce(type, 'normal') = 'normal'",
          "(approved_at IS NULL AND approver IS NULL) OR ts(approved_at) > ts(implemented_at)", "changes")
    check("change-no-risk-assessment", implemented, "risk IS NULL", "changes")
    check("emergency-change-not-reviewed", implemented + " AND type = 'emergency'",
          "reviewed_on IS NULL OR CAST(reviewed_on AS DATE) > cutoff()", "changes")
    check("change-no-backout", implemented,
          "coalesce(backout_plan, 'no') <> 'yes' OR coalesce(test_plan, 'no') <> 'yes' "
          "OR (successful = 'no' AND reviewed_on IS NULL)", "changes")

    deployed = "deployed_at IS NOT NULL AND d(deployed_at) <= cutoff()"
    check("release-no-change", deployed, "change IS NULL OR change NOT IN (SELECT id FROM changes)", "releases")
    check("release-not-tested", deployed, "coalesce(tested, 'no') <> 'yes'", "releases")

    slas = yaml.safe_load((bundle / "slas.yaml").read_text()) if (bundle / "slas.yaml").exists() else None
    named = {a["service"] for a in (slas or {}).get("slas") or []}
    for table in ["incidents", "problems", "changes", "releases", "cis"]:
        named |= {r[0] for r in con.execute(f"SELECT DISTINCT service FROM {table} WHERE service IS NOT NULL").fetchall()}
    results["service-not-in-catalogue"] = {"affected": len(named - known)}

    print(json.dumps({"checks": results, "major_incidents_without_problem": p1}, indent=1))


if __name__ == "__main__":
    main()
