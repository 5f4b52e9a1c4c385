from nodestream_plugin_neo4j.ingest_query_builder import Neo4jIngestQueryBuilder
from nodestream.databases.query_executor import OperationOnNodeIdentity, OperationOnRelationshipIdentity
from nodestream.model import NodeCreationRule as N, RelationshipCreationRule as R, NodeIdentityShape, RelationshipIdentityShape, TimeToLiveConfiguration
from nodestream.schema import GraphObjectType
import json
out = []
for fia in (False, True):
    b = Neo4jIngestQueryBuilder(True, fia)
    for rule in (N.EAGER, N.MATCH_ONLY, N.FUZZY):
        for add in ((), ("Person","Human")):
            for keys in (("identifier",), ("a","b")):
                op = OperationOnNodeIdentity(NodeIdentityShape("Airport", keys, add), rule)
                out.append({"kind":"node","fia":fia,"rule":rule.name,"add":list(add),"keys":list(keys),"q":b.generate_update_node_operation_query_statement(op)})
    for fr in (N.MATCH_ONLY, N.FUZZY):
        for tr in (N.MATCH_ONLY, N.FUZZY):
            for rr in (R.EAGER, R.CREATE):
                for rk in ((), ("role",), ("role","k2")):
                    op = OperationOnRelationshipIdentity(
                        OperationOnNodeIdentity(NodeIdentityShape("Airport", ("identifier",), ()), fr),
                        OperationOnNodeIdentity(NodeIdentityShape("Multi", ("a","b"), ()), tr),
                        RelationshipIdentityShape("WITHIN", rk), rr)
                    out.append({"kind":"rel","fia":fia,"from":fr.name,"to":tr.name,"rule":rr.name,"rk":list(rk),"q":b.generate_update_relationship_operation_query_statement(op)})
b = Neo4jIngestQueryBuilder(True, False)
for t in (GraphObjectType.NODE, GraphObjectType.RELATIONSHIP):
    q = b.generate_ttl_query_from_configuration(TimeToLiveConfiguration(graph_object_type=t, object_type="ObjectA", expiry_in_hours=48), 3)
    p = dict(q.parameters); p["iterate_params"] = str(p["iterate_params"])
    out.append({"kind":"ttl","t":t.name,"text":q.query_statement,"params":p})
print(json.dumps(out, indent=1))
