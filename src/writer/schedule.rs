//! Conflict-aware scheduling of the writer's queries.
//!
//! Every query (a *unit*: one chunk of one bucket) carries its *footprint*: the identities of the nodes it
//! writes or, for relationships, of both endpoints. Neo4j takes exclusive locks on exactly those nodes (a
//! relationship `MERGE` locks both endpoints, hub nodes included), so two units with intersecting footprints
//! would only wait for each other, or deadlock. The scheduler therefore starts a unit only when every earlier
//! unit that shares a node with it has finished, and runs everything else at once, up to the connection limit.
//!
//! What this keeps:
//! - a relationship is written after the nodes it connects (their node units come first and share the
//!   endpoints), so relationships always find their endpoints, across batches too;
//! - updates to one node or relationship are applied in record order;
//! - no two of our own queries ever deadlock on each other.
//!
//! What it buys: with batches of airports → country/region, the relationships to countries of batch k+1,
//! those to regions of batch k and the airports of batch k+2 run together, while Python runs one shape at a
//! time and APOC's parallel chunks mostly wait on (or deadlock over) the same hub nodes.

use super::{Shared, Unit};
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// Units waiting or running, and who waits for whom.
#[derive(Default)]
struct State {
    /// Units not finished yet, by sequence number.
    units: hashbrown::HashMap<u64, Entry>,
    /// Node identity → unfinished units touching it, in order (the front one may run).
    queues: hashbrown::HashMap<u64, VecDeque<u64>>,
    /// Units that may start, earliest first.
    ready: BTreeSet<u64>,
    next: u64,
}

struct Entry {
    unit: Option<Unit>,
    footprint: Vec<u64>,
    /// Identities for which an earlier unit is still unfinished.
    blockers: u32,
}

impl State {
    fn add(&mut self, mut unit: Unit) {
        let footprint = std::mem::take(&mut unit.footprint);
        self.push(Some(unit), footprint);
    }

    fn push(&mut self, unit: Option<Unit>, footprint: Vec<u64>) {
        let seq = self.next;
        self.next += 1;
        let mut blockers = 0;
        for id in &footprint {
            let q = self.queues.entry(*id).or_default();
            if !q.is_empty() {
                blockers += 1;
            }
            q.push_back(seq);
        }
        if blockers == 0 {
            self.ready.insert(seq);
        }
        self.units.insert(
            seq,
            Entry {
                unit,
                footprint,
                blockers,
            },
        );
    }

    /// The earliest unit that may start now.
    fn start(&mut self) -> Option<(u64, Unit)> {
        let seq = self.ready.pop_first()?;
        let unit = self.units.get_mut(&seq)?.unit.take()?;
        Some((seq, unit))
    }

    fn finish(&mut self, seq: u64) {
        let Some(entry) = self.units.remove(&seq) else {
            return;
        };
        for id in &entry.footprint {
            let Some(q) = self.queues.get_mut(id) else {
                continue;
            };
            debug_assert_eq!(q.front(), Some(&seq));
            q.pop_front();
            match q.front() {
                Some(next) => {
                    if let Some(e) = self.units.get_mut(next) {
                        e.blockers -= 1;
                        if e.blockers == 0 {
                            self.ready.insert(*next);
                        }
                    }
                }
                None => {
                    self.queues.remove(id);
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.units.is_empty()
    }
}

/// A running scheduler: send it the units of each batch, in batch order.
pub(super) struct Scheduler {
    tx: mpsc::UnboundedSender<Vec<Unit>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Scheduler {
    /// Starts a scheduler writing through `shared`.
    pub(super) fn start(shared: Arc<Shared>) -> Scheduler {
        let (tx, rx) = mpsc::unbounded_channel();
        Scheduler {
            tx,
            handle: tokio::spawn(run(shared, rx)),
        }
    }

    /// Queues the units of one batch; false once the scheduler has stopped on an error ([`Scheduler::close`]
    /// returns it).
    pub(super) fn submit(&self, units: Vec<Unit>) -> bool {
        self.tx.send(units).is_ok()
    }

    /// Waits for every queued unit; returns the first error.
    pub(super) async fn close(self) -> anyhow::Result<()> {
        drop(self.tx);
        self.handle
            .await
            .map_err(|e| anyhow::anyhow!("writer task failed: {e}"))?
    }
}

async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Vec<Unit>>,
) -> anyhow::Result<()> {
    let limit = shared.opts.concurrency();
    let mut state = State::default();
    let mut running: JoinSet<(u64, Unit, anyhow::Result<()>)> = JoinSet::new();
    let mut open = true;
    let mut error: Option<anyhow::Error> = None;
    loop {
        if error.is_none() {
            while running.len() < limit {
                let Some((seq, unit)) = state.start() else {
                    break;
                };
                let shared = shared.clone();
                running.spawn(async move {
                    let r = shared.send(&unit.prepared).await;
                    (seq, unit, r)
                });
            }
        }
        if running.is_empty() && (error.is_some() || state.is_empty()) {
            if !open {
                break;
            }
            if error.is_some() {
                // Stop taking batches: the writer sees the closed channel and collects the error.
                rx.close();
                while rx.recv().await.is_some() {}
                break;
            }
        }
        tokio::select! {
            joined = running.join_next(), if !running.is_empty() => match joined {
                Some(Ok((seq, unit, result))) => {
                    match result {
                        Ok(()) => shared.count_written(&unit),
                        Err(e) => {
                            error.get_or_insert(e);
                        }
                    }
                    state.finish(seq);
                }
                Some(Err(e)) => {
                    error.get_or_insert(anyhow::anyhow!("writer task failed: {e}"));
                }
                None => {}
            },
            msg = rx.recv(), if open => match msg {
                Some(units) if error.is_none() => {
                    for u in units {
                        state.add(u);
                    }
                }
                Some(_) => {}
                None => open = false,
            },
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_order(state: &mut State) -> Vec<u64> {
        let mut v = Vec::new();
        while let Some(s) = state.ready.pop_first() {
            v.push(s);
        }
        for s in &v {
            state.ready.insert(*s);
        }
        v
    }

    #[test]
    fn units_sharing_a_node_run_in_order_others_at_once() {
        let mut st = State::default();
        let add = |st: &mut State, fp: &[u64]| st.push(None, fp.to_vec());
        // 0: airports {1,2}; 1: country {9}; 2: rels {1,9},{2,9}; 3: rels {1,7},{2,8}; 4: airports {3}
        add(&mut st, &[1, 2]);
        add(&mut st, &[9]);
        add(&mut st, &[1, 2, 9]);
        add(&mut st, &[1, 2, 7, 8]);
        add(&mut st, &[3]);
        assert_eq!(ready_order(&mut st), vec![0, 1, 4]);
        st.ready.clear();
        st.finish(0);
        assert!(st.ready.is_empty(), "unit 2 still waits for the country");
        st.finish(1);
        assert_eq!(ready_order(&mut st), vec![2]);
        st.ready.clear();
        st.finish(2);
        assert_eq!(ready_order(&mut st), vec![3]);
        st.ready.clear();
        st.finish(3);
        st.finish(4);
        assert!(st.is_empty() && st.queues.is_empty());
    }
}
