"""Deterministic graph generator for benches/copy-vs-python.sh (run with the venv of scripts/python-env).

usage: copy-gen.py URI PASSWORD PEOPLE COMPANIES PER_PERSON [PREFIX]

Creates, inside the server (no client-side data): PEOPLE `<P>Person {id, name, score, active, tags}`, COMPANIES
`<P>Company {id, name, rating}`, and for every person PER_PERSON distinct `<P>WORKS_AT {since, weight}` to companies
`(id + j * (COMPANIES / PER_PERSON)) % COMPANIES + 1`. Skips generation when the counts are already there.
Prints one JSON line: {"people": .., "companies": .., "relationships": ..}.
"""

import json
import sys

from neo4j import GraphDatabase

uri, password = sys.argv[1], sys.argv[2]
people, companies, per = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
p = sys.argv[6] if len(sys.argv) > 6 else "CopyBench"
step = companies // per


def run(session, q):
    return [r.data() for r in session.run(q)]


with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
    with driver.session(database="neo4j") as s:
        have = run(
            s,
            f"MATCH (n:{p}Person) WITH count(n) AS people "
            f"OPTIONAL MATCH ()-[r:{p}WORKS_AT]->() RETURN people, count(r) AS rels",
        )[0]
        if have["people"] != people or have["rels"] != people * per:
            run(
                s,
                f"MATCH (n) WHERE n:{p}Person OR n:{p}Company "
                "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
            )
            run(s, f"CREATE INDEX {p}Company_id IF NOT EXISTS FOR (n:{p}Company) ON (n.id)")
            run(s, "CALL db.awaitIndexes(300)")
            run(
                s,
                f"UNWIND range(1, {companies}) AS i "
                f"CREATE (:{p}Company {{id: i, name: 'c' + i, rating: toFloat(i % 50) / 10}})",
            )
            run(
                s,
                f"UNWIND range(1, {people}) AS i CALL (i) {{ CREATE (:{p}Person {{id: i, name: 'p' + i, "
                "score: toFloat(i) / 3, active: i % 2 = 0, tags: ['a', 'b']}) } IN TRANSACTIONS OF 20000 ROWS",
            )
            run(
                s,
                f"MATCH (x:{p}Person) CALL (x) {{ UNWIND range(0, {per} - 1) AS j "
                f"MATCH (c:{p}Company {{id: (x.id + j * {step}) % {companies} + 1}}) "
                f"CREATE (x)-[:{p}WORKS_AT {{since: 2000 + j, weight: j * 0.25}}]->(c) }} "
                "IN TRANSACTIONS OF 5000 ROWS",
            )
        print(json.dumps({"people": people, "companies": companies, "relationships": people * per}))
