//! Executing operations on Neo4j, with the plugin's exact statements (spec §6.2), and the lock and
//! bookkeeping protocol (§6.6).

mod executor;
mod migrator;
mod statements;
#[cfg(test)]
mod tests;

pub use migrator::*;
pub use statements::*;
