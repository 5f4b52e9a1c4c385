//! Running one operation as the plugin's statements, with the schema checks it does first.

use super::statements::*;
use crate::migrations::operation::{Literal, NameSet, Operation};
use crate::quoting::escaped as quoted;

/// Runs operations against one database.
pub struct Executor<'a, C> {
    db: &'a C,
    opts: Options,
}

impl<'a, C: Cypher> Executor<'a, C> {
    /// An executor over `db`.
    pub fn new(db: &'a C, opts: Options) -> Self {
        Executor { db, opts }
    }

    async fn run(&self, statement: Statement) -> Result<Vec<Vec<bolt::Value>>, CypherError> {
        tracing::debug!(statement = %statement.text, "migration statement");
        self.db.run(statement).await
    }

    async fn constraint_keys(&self, name: &str) -> Result<NameSet, CypherError> {
        let rows = self
            .run(
                Statement::new(CONSTRAINT_PROPERTIES)
                    .param("constraint_name", bolt::Value::String(name.to_owned())),
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(|v| strings(v).collect())
            .unwrap_or_default())
    }

    async fn indexed_properties(
        &self,
        entity: &str,
        object_type: &str,
    ) -> Result<NameSet, CypherError> {
        let query = |text: &str| {
            Statement::new(text)
                .param("entity_type", bolt::Value::String(entity.to_owned()))
                .param("object_type", bolt::Value::String(object_type.to_owned()))
        };
        let rows = match self.run(query(INDEXED_PROPERTIES)).await {
            // Neo4j 4.4 has no `owningConstraint` column (the plugin fails there); its constraint-backed
            // indexes are the UNIQUE ones.
            Err(e) if e.message.contains("owningConstraint") => {
                self.run(query(INDEXED_PROPERTIES_4_4)).await?
            }
            other => other?,
        };
        Ok(rows
            .iter()
            .filter_map(|r| r.first())
            .filter_map(|v| strings(v).next())
            .collect())
    }

    pub(super) async fn make_constraint(
        &self,
        label: &str,
        keys: &NameSet,
        name: &str,
    ) -> Result<(), CypherError> {
        if let Some(s) = node_constraint(self.opts, label, keys, name) {
            self.run(s).await?;
        }
        Ok(())
    }

    /// Executes one operation with the plugin's statements, in the plugin's order.
    pub async fn execute(&self, op: &Operation) -> Result<(), CypherError> {
        use Operation::*;
        let b = self.opts.transaction_batch_size;
        match op {
            CreateNodeType { name, keys, .. } => {
                self.make_constraint(name, keys, &node_key_name(name))
                    .await?
            }
            CreateRelationshipType { .. } => {}
            DropNodeType { name } => {
                self.run(drop_constraint(&node_key_name(name))).await?;
                for field in self.indexed_properties("NODE", name).await? {
                    self.run(drop_index(&index_name(name, &field))).await?;
                }
                let t = quoted(name);
                self.run(Statement::implicit(format!(
                    "MATCH (n:`{t}`) CALL {{ WITH n DETACH DELETE n }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            DropRelationshipType { name } => {
                for field in self.indexed_properties("RELATIONSHIP", name).await? {
                    self.run(drop_index(&index_name(name, &field))).await?;
                }
                let t = quoted(name);
                self.run(Statement::implicit(format!(
                    "MATCH ()-[r:`{t}`]->() CALL {{ WITH r DELETE r }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            RenameNodeProperty {
                node_type,
                old_property_name,
                new_property_name,
            } => {
                self.run(rename_node_property(
                    node_type,
                    old_property_name,
                    new_property_name,
                    b,
                ))
                .await?;
            }
            RenameRelationshipProperty {
                relationship_type,
                old_property_name,
                new_property_name,
            } => {
                self.run(rename_relationship_property(
                    relationship_type,
                    old_property_name,
                    new_property_name,
                    b,
                ))
                .await?;
            }
            RenameNodeType { old_type, new_type } => {
                let keys = self.constraint_keys(&node_key_name(old_type)).await?;
                self.run(drop_constraint(&node_key_name(old_type))).await?;
                let indexed = self.indexed_properties("NODE", old_type).await?;
                for field in &indexed {
                    self.run(drop_index(&index_name(old_type, field))).await?;
                }
                let (o, n) = (quoted(old_type), quoted(new_type));
                self.run(Statement::implicit(format!(
                    "MATCH (n:`{o}`) CALL {{ WITH n SET n:`{n}` REMOVE n:`{o}` }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
                self.make_constraint(new_type, &keys, &node_key_name(new_type))
                    .await?;
                for field in &indexed {
                    self.run(node_index(new_type, field)).await?;
                }
            }
            RenameRelationshipType { old_type, new_type } => {
                let indexed = self.indexed_properties("RELATIONSHIP", old_type).await?;
                for field in &indexed {
                    self.run(drop_index(&index_name(old_type, field))).await?;
                }
                let (o, n) = (quoted(old_type), quoted(new_type));
                self.run(Statement::implicit(format!(
                    "MATCH (n)-[r:`{o}`]->(m) CALL {{ WITH n, r, m CREATE (n)-[r2:`{n}`]->(m) SET r2 += properties(r) DELETE r }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
                for field in &indexed {
                    self.run(relationship_index(new_type, field)).await?;
                }
            }
            AddAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                self.run(node_index(node_type, field_name)).await?;
            }
            DropAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                self.run(drop_index(&index_name(node_type, field_name)))
                    .await?;
            }
            AddAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                self.run(relationship_index(relationship_type, field_name))
                    .await?;
            }
            DropAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                self.run(drop_index(&index_name(relationship_type, field_name)))
                    .await?;
            }
            AddNodeProperty {
                node_type,
                property_name,
                default,
            } => {
                self.run(set_node_property(node_type, property_name, default, b))
                    .await?;
            }
            AddRelationshipProperty {
                relationship_type,
                property_name,
                default,
            } => {
                self.run(set_relationship_property(
                    relationship_type,
                    property_name,
                    default,
                    b,
                ))
                .await?;
            }
            DropNodeProperty {
                node_type,
                property_name,
            } => {
                let (t, p) = (quoted(node_type), quoted(property_name));
                self.run(Statement::implicit(format!(
                    "MATCH (n:`{t}`) CALL {{ WITH n REMOVE n.`{p}` }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            DropRelationshipProperty {
                relationship_type,
                property_name,
            } => {
                let (t, p) = (quoted(relationship_type), quoted(property_name));
                self.run(Statement::implicit(format!(
                    "MATCH ()-[r:`{t}`]->() CALL {{ WITH r REMOVE r.`{p}` }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            NodeKeyExtended {
                node_type,
                added_key_property,
                default,
            } => {
                let name = node_key_name(node_type);
                // ⚠ QUIRK (spec §11 #28): a null default becomes the string "null", so the key is never null.
                let default = if default.is_null() {
                    Literal::Str("null".into())
                } else {
                    default.clone()
                };
                let mut keys = self.constraint_keys(&name).await?;
                keys.insert(added_key_property.clone());
                self.run(drop_constraint(&name)).await?;
                self.run(set_node_property(
                    node_type,
                    added_key_property,
                    &default,
                    b,
                ))
                .await?;
                self.make_constraint(node_type, &keys, &name).await?;
            }
            RelationshipKeyExtended {
                relationship_type,
                added_key_property,
                default,
            } => {
                self.run(set_relationship_property(
                    relationship_type,
                    added_key_property,
                    default,
                    b,
                ))
                .await?;
            }
            NodeKeyPartRenamed {
                node_type,
                old_key_part_name,
                new_key_part_name,
            } => {
                let name = node_key_name(node_type);
                let mut keys = self.constraint_keys(&name).await?;
                if !keys.remove(old_key_part_name) {
                    return Ok(());
                }
                keys.insert(new_key_part_name.clone());
                self.run(drop_constraint(&name)).await?;
                self.run(rename_node_property(
                    node_type,
                    old_key_part_name,
                    new_key_part_name,
                    b,
                ))
                .await?;
                self.make_constraint(node_type, &keys, &name).await?;
            }
            RelationshipKeyPartRenamed {
                relationship_type,
                old_key_part_name,
                new_key_part_name,
            } => {
                self.run(rename_relationship_property(
                    relationship_type,
                    old_key_part_name,
                    new_key_part_name,
                    b,
                ))
                .await?;
            }
        }
        Ok(())
    }
}
