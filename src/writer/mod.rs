//! The Neo4j writer: batching, de-duplication, Cypher and pre-encoded APOC batches (spec §3.6, §4).
