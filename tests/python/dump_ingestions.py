"""Runs one pipeline of a project through Python Nodestream (no database) and prints, per record, the JSON
line that `nodestream run --dry-run` prints, so the Rust interpreter can be compared with the reference.

Usage (from the project directory): python dump_ingestions.py nodestream.yaml PIPELINE
Timestamps print as FIXED_NOW (Python cannot freeze its clock); the per-pipeline property names use the
real pipeline name (Python says `unknown` when run programmatically).
"""
import asyncio
import datetime
import json
import sys
from pathlib import Path

from nodestream.project import Project

FIXED_NOW = "2024-01-01T00:00:00.000000000+00:00"


def value(v):
    if isinstance(v, datetime.datetime):
        return FIXED_NOW
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): value(x) for k, x in v.items()}
    return v


def props(p, name):
    return {k.replace("_by_unknown", f"_by_{name}"): value(v) for k, v in dict(p).items()}


def node(n, name, brief=False):
    out = {"type": n.type, "keys": props(n.key_values, name)}
    if brief:
        return out
    if n.additional_types:
        out["additional_types"] = list(n.additional_types)
    out["properties"] = props(n.properties, name)
    return out


def rule(r):
    return {"EAGER": "EAGER", "MATCH_ONLY": "MATCH_ONLY", "FUZZY": "FUZZY", "MERGE_KEY": "EAGER", "CREATE": "CREATE"}[r.name]


def convert(item, name):
    cls = type(item).__name__
    if cls == "DesiredIngestion":
        if not item.source_node_is_valid:
            return None
        source = node(item.source, name)
        source["creation_rule"] = rule(item.source_node_creation_rule)
        rels = []
        for r in item.relationships:
            from_is_source = r.from_node.type == item.source.type and dict(r.from_node.key_values) == dict(item.source.key_values)
            rels.append({
                "type": r.relationship.type,
                "keys": props(r.relationship.key_values, name),
                "properties": props(r.relationship.properties, name),
                "from": node(r.from_node, name, brief=from_is_source),
                "from_creation_rule": rule(r.from_side_node_creation_rule),
                "to": node(r.to_node, name, brief=not from_is_source),
                "to_creation_rule": rule(r.to_side_node_creation_rule),
                "creation_rule": rule(r.relationship_creation_rule),
            })
        return {"source": source, "relationships": rels}
    if cls == "TimeToLiveConfiguration":
        return {"time_to_live": {
            "graph_object_type": item.graph_object_type.name,
            "object_type": item.object_type,
            "expiry_in_hours": float(item.expiry_in_hours),
            "custom_query": item.custom_query,
            "batch_size": item.batch_size,
            "enabled": item.enabled,
        }}
    return {"record": value(item)}


def main():
    project = Project.read_from_file(Path(sys.argv[1]))
    name = sys.argv[2]
    results = asyncio.run(project.get_snapshot_for(name))
    for item in results:
        line = convert(item, name)
        if line is not None:
            print(json.dumps(line))


if __name__ == "__main__":
    main()
