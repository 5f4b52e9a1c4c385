//! Migrations and the graph their dependencies form: order, plan and squash (spec §6.5).

use super::operation::Operation;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One migration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// Unique name (the loader uses this, not the file name).
    pub name: String,
    /// Applied in order.
    pub operations: Vec<Operation>,
    /// Names of migrations that must run before.
    pub dependencies: Vec<String>,
    /// For a squash: the migrations it replaces.
    pub replaces: Vec<String>,
}

impl Migration {
    /// Whether this migration was made by `squash`.
    pub fn is_squash(&self) -> bool {
        !self.replaces.is_empty()
    }
}

/// Errors in the shape of the graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// Two files carry the same `name`.
    #[error("two migrations are named '{0}'")]
    Duplicate(String),
    /// A dependency names no migration.
    #[error(
        "migration '{migration}' depends on '{dependency}', which is not among the project's migrations"
    )]
    UnknownDependency {
        /// The migration that has the dependency.
        migration: String,
        /// The missing name.
        dependency: String,
    },
    /// Dependencies form a cycle.
    #[error("migrations depend on each other in a cycle through '{0}'")]
    Cycle(String),
    /// `squash --from/--to` names a migration that does not exist.
    #[error("no migration is named '{0}'")]
    NoSuchMigration(String),
    /// `--to` comes before `--from` in the order.
    #[error("migration '{to}' comes before '{from}': nothing to squash")]
    EmptySquash {
        /// `--from`.
        from: String,
        /// `--to`.
        to: String,
    },
}

/// All migrations of a project, by name.
#[derive(Debug, Clone, Default)]
pub struct MigrationGraph {
    by_name: BTreeMap<String, Migration>,
}

impl MigrationGraph {
    /// Builds the graph, checking names are unique and every dependency exists.
    pub fn new(migrations: impl IntoIterator<Item = Migration>) -> Result<Self, GraphError> {
        let mut by_name = BTreeMap::new();
        for m in migrations {
            if by_name.contains_key(&m.name) {
                return Err(GraphError::Duplicate(m.name));
            }
            by_name.insert(m.name.clone(), m);
        }
        for m in by_name.values() {
            if let Some(d) = m.dependencies.iter().find(|d| !by_name.contains_key(*d)) {
                return Err(GraphError::UnknownDependency {
                    migration: m.name.clone(),
                    dependency: d.clone(),
                });
            }
        }
        let graph = MigrationGraph { by_name };
        graph.topological_order()?;
        Ok(graph)
    }

    /// A migration by name.
    pub fn get(&self, name: &str) -> Option<&Migration> {
        self.by_name.get(name)
    }

    /// Every migration, by name.
    pub fn all(&self) -> impl Iterator<Item = &Migration> {
        self.by_name.values()
    }

    /// Whether there are no migrations.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Migrations nobody depends on, sorted by name.
    pub fn leaves(&self) -> Vec<&Migration> {
        let depended: HashSet<&str> = self
            .all()
            .flat_map(|m| m.dependencies.iter().map(String::as_str))
            .collect();
        self.all()
            .filter(|m| !depended.contains(m.name.as_str()))
            .collect()
    }

    /// Dependencies used for ordering: the declared ones, plus every squash that replaces one of them, so
    /// a squash runs before the migrations that build on what it replaces.
    fn ordering_dependencies<'s>(&'s self, m: &'s Migration) -> Vec<&'s str> {
        let mut deps: Vec<&str> = m.dependencies.iter().map(String::as_str).collect();
        for squash in self
            .all()
            .filter(|s| s.is_squash() && s.name != m.name && !s.replaces.contains(&m.name))
        {
            if m.dependencies.iter().any(|d| squash.replaces.contains(d)) {
                deps.push(&squash.name);
            }
        }
        deps.sort_unstable();
        deps.dedup();
        deps
    }

    /// Depth-first post-order from the leaves (dependencies first), deterministic: leaves and
    /// dependencies are visited in name order.
    pub fn topological_order(&self) -> Result<Vec<&Migration>, GraphError> {
        let mut order = Vec::with_capacity(self.by_name.len());
        let mut done: HashSet<&str> = HashSet::new();
        let mut on_path: HashSet<&str> = HashSet::new();
        // Roots first: visiting every migration (not only leaves) also reaches cycles that have no leaf.
        let mut starts: Vec<&Migration> = self.leaves();
        starts.extend(self.all());
        for start in starts {
            let mut stack: Vec<(&Migration, bool)> = vec![(start, false)];
            while let Some((m, processed)) = stack.pop() {
                if processed {
                    on_path.remove(m.name.as_str());
                    if done.insert(&m.name) {
                        order.push(m);
                    }
                    continue;
                }
                if done.contains(m.name.as_str()) {
                    continue;
                }
                if !on_path.insert(&m.name) {
                    return Err(GraphError::Cycle(m.name.clone()));
                }
                stack.push((m, true));
                let deps = self.ordering_dependencies(m);
                // Reverse so the first name is popped (visited) first.
                for d in deps.into_iter().rev() {
                    let dep = self
                        .by_name
                        .get(d)
                        .ok_or_else(|| GraphError::UnknownDependency {
                            migration: m.name.clone(),
                            dependency: d.to_owned(),
                        })?;
                    if !done.contains(d) {
                        stack.push((dep, false));
                    }
                }
            }
        }
        Ok(order)
    }

    /// The plan for a database where `completed` are applied (spec §6.5): squashes replace what they
    /// replace, unless part of it already ran.
    pub fn plan(&self, completed: &HashSet<String>) -> Result<Vec<&Migration>, GraphError> {
        let mut replaced_by: BTreeMap<&str, &Migration> = BTreeMap::new();
        for m in self.all() {
            for r in &m.replaces {
                replaced_by.insert(r, m);
            }
        }
        let mut plan = Vec::new();
        for m in self.topological_order()? {
            if completed.contains(&m.name) {
                continue;
            }
            if let Some(squash) = replaced_by.get(m.name.as_str())
                && !squash.replaces.iter().any(|r| completed.contains(r))
            {
                continue;
            }
            if m.is_squash() && m.replaces.iter().any(|r| completed.contains(r)) {
                continue;
            }
            plan.push(m);
        }
        Ok(plan)
    }

    /// The squash of the topological slice `from..=to` (to the end without `to`), optimised.
    pub fn squash(&self, from: &str, to: Option<&str>) -> Result<Migration, GraphError> {
        let order = self.topological_order()?;
        let index = |name: &str| {
            order
                .iter()
                .position(|m| m.name == name)
                .ok_or_else(|| GraphError::NoSuchMigration(name.to_owned()))
        };
        let start = index(from)?;
        let end = match to {
            Some(to) => index(to)?,
            None => order.len() - 1,
        };
        if end < start {
            return Err(GraphError::EmptySquash {
                from: from.to_owned(),
                to: to.unwrap_or_default().to_owned(),
            });
        }
        let slice = &order[start..=end];
        let names: BTreeSet<&str> = slice.iter().map(|m| m.name.as_str()).collect();
        let dependencies: BTreeSet<String> = slice
            .iter()
            .flat_map(|m| &m.dependencies)
            .filter(|d| !names.contains(d.as_str()))
            .cloned()
            .collect();
        let operations = Operation::optimize(
            slice
                .iter()
                .flat_map(|m| m.operations.iter().cloned())
                .collect(),
        );
        let name = match to {
            Some(to) => format!("squash_from_{from}_to_{to}"),
            None => format!("squash_from_{from}"),
        };
        Ok(Migration {
            name,
            operations,
            dependencies: dependencies.into_iter().collect(),
            replaces: slice.iter().map(|m| m.name.clone()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, deps: &[&str]) -> Migration {
        Migration {
            name: name.into(),
            operations: vec![Operation::DropNodeType {
                name: format!("T{name}"),
            }],
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            replaces: vec![],
        }
    }

    fn names(ms: &[&Migration]) -> Vec<String> {
        ms.iter().map(|m| m.name.clone()).collect()
    }

    #[test]
    fn order_puts_dependencies_first() {
        let g = MigrationGraph::new([
            m("c", &["b", "a"]),
            m("a", &[]),
            m("b", &["a"]),
            m("d", &[]),
        ])
        .unwrap();
        assert_eq!(names(&g.topological_order().unwrap()), ["a", "b", "c", "d"]);
        assert_eq!(names(&g.leaves()), ["c", "d"]);
    }

    #[test]
    fn unknown_dependency_duplicate_and_cycle_are_errors() {
        let err = MigrationGraph::new([m("a", &["zz"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "migration 'a' depends on 'zz', which is not among the project's migrations"
        );
        assert_eq!(
            MigrationGraph::new([m("a", &[]), m("a", &[])]).unwrap_err(),
            GraphError::Duplicate("a".into())
        );
        assert!(matches!(
            MigrationGraph::new([m("a", &["b"]), m("b", &["a"])]).unwrap_err(),
            GraphError::Cycle(_)
        ));
        assert!(matches!(
            MigrationGraph::new([m("a", &["b"]), m("b", &["a"]), m("c", &["a"])]).unwrap_err(),
            GraphError::Cycle(_)
        ));
    }

    #[test]
    fn plan_prefers_the_squash_unless_part_of_it_ran() {
        let mut s = m("s", &[]);
        s.replaces = vec!["a".into(), "b".into()];
        let g = MigrationGraph::new([m("a", &[]), m("b", &["a"]), s, m("c", &["b"])]).unwrap();
        let none = HashSet::new();
        // `c` builds on `b`, which `s` replaces: `s` runs first.
        assert_eq!(names(&g.plan(&none).unwrap()), ["s", "c"]);
        let a_done: HashSet<String> = ["a".to_string()].into();
        assert_eq!(names(&g.plan(&a_done).unwrap()), ["b", "c"]);
    }

    #[test]
    fn squash_slices_the_order_and_keeps_outside_dependencies() {
        let mut a = m("a", &[]);
        a.operations = vec![Operation::CreateNodeType {
            name: "X".into(),
            keys: Default::default(),
            properties: Default::default(),
        }];
        let mut b = m("b", &["a"]);
        b.operations = vec![Operation::DropNodeType { name: "X".into() }];
        let g = MigrationGraph::new([a, b, m("c", &["b"])]).unwrap();
        let s = g.squash("b", Some("c")).unwrap();
        assert_eq!(s.name, "squash_from_b_to_c");
        assert_eq!(s.replaces, ["b", "c"]);
        assert_eq!(s.dependencies, ["a"]);
        let s = g.squash("a", None).unwrap();
        assert_eq!(s.name, "squash_from_a");
        assert_eq!(
            s.operations,
            vec![Operation::DropNodeType { name: "Tc".into() }]
        );
        assert!(s.dependencies.is_empty());
        assert_eq!(
            g.squash("nope", None).unwrap_err(),
            GraphError::NoSuchMigration("nope".into())
        );
    }
}
