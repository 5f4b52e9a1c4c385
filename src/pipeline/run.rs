//! Running one loaded pipeline: threads for the steps, the async side for sinks and progress.

use super::sink::{Sink, SinkStats};
use super::{LoadedPipeline, Output, Record, Step, finish_steps, push};
use crate::interpreter::Clock;
use crate::model::Ingestible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Records per channel message: amortises the hand-off between threads.
const CHUNK: usize = 256;

/// Run settings from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Queue capacity between steps, in records (`-s`).
    pub step_outbox_size: usize,
    /// Report progress every N records (`-r`).
    pub reporting_frequency: u64,
    /// JSON log lines instead of the spinner (`-j`).
    pub json: bool,
    /// Scope name for JSON logs.
    pub scope: String,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Records out of the last step.
    pub records: u64,
    /// Wall time.
    pub elapsed_seconds: f64,
    /// Records skipped by the writers (invalid source identity).
    pub skipped: u64,
    /// The writers' metrics (`nodes_upserted`, …), summed over targets, in first-seen order.
    pub metrics: Vec<(String, u64)>,
}

#[derive(Debug, thiserror::Error)]
#[error("downstream closed")]
struct Closed;

/// Emits one JSON log line of a pipeline on stderr.
pub fn json_log(level: &str, pipeline: &str, scope: &str, message: &str, extra: serde_json::Value) {
    let source = crate::jsonlog::Source {
        logger: "nodestream",
        pipeline,
        scope: Some(scope),
    };
    crate::jsonlog::emit(source, level, message, extra);
}

/// Runs a pipeline to completion, writing what its last step emits to every sink.
pub async fn run_pipeline(
    pipeline: LoadedPipeline,
    mut sinks: Vec<Sink>,
    opts: &RunOptions,
) -> anyhow::Result<RunStats> {
    let name = pipeline.name.clone();
    let file = pipeline.file.clone();
    let chunk = CHUNK.min(opts.step_outbox_size.max(1));
    let capacity = (opts.step_outbox_size / chunk).max(1);
    let steps: Arc<Vec<Step>> = Arc::new(pipeline.steps);
    // Each message: records the null sinks discarded on the producing thread, then items for the sinks.
    let (tx_out, mut rx_out) = tokio::sync::mpsc::channel::<(u64, Vec<Output>)>(capacity);
    // With only `null` targets the items are dropped where they were built: freeing memory on the thread
    // that allocated it is much cheaper than shipping it to the async side to be dropped there.
    let discard = sinks.iter().all(Sink::discards);

    let proc_steps = Arc::clone(&steps);
    let processing = std::thread::Builder::new()
        .name(format!("steps-{name}"))
        .spawn(move || -> anyhow::Result<()> {
            let mut clock = Clock::new();
            let mut buf: Vec<Output> = Vec::with_capacity(chunk);
            let mut dropped: u64 = 0;
            let tx = tx_out;
            // Written records come back here to be freed (see `recycle`): cheaper than on the writer's thread.
            let garbage = crate::writer::buckets::recycle::Taker::new();
            let mut out = |o: Output| -> anyhow::Result<()> {
                if discard {
                    drop(o);
                    dropped += 1;
                    if dropped >= chunk as u64 {
                        tx.blocking_send((std::mem::take(&mut dropped), Vec::new()))
                            .map_err(|_| Closed)?;
                    }
                    return Ok(());
                }
                buf.push(o);
                if buf.len() >= chunk {
                    let full = std::mem::replace(&mut buf, Vec::with_capacity(chunk));
                    tx.blocking_send((0, full)).map_err(|_| Closed)?;
                    garbage.collect();
                }
                Ok(())
            };
            let result = if matches!(proc_steps.first(), Some(Step::Extractor(_))) {
                let (etx, erx) = std::sync::mpsc::sync_channel::<Vec<Record>>(capacity);
                let ext_steps = Arc::clone(&proc_steps);
                let extractor = std::thread::Builder::new().name("extractor".into()).spawn(
                    move || -> anyhow::Result<()> {
                        let Some(Step::Extractor(e)) = ext_steps.first() else {
                            return Ok(());
                        };
                        let mut batch = Vec::with_capacity(chunk);
                        e.run(&mut |x| {
                            batch.push(match x {
                                super::extractors::Extracted::Data(d) => Record::Data(d),
                                super::extractors::Extracted::Ttl(t) => {
                                    Record::Item(Ingestible::TimeToLive(t))
                                }
                            });
                            if batch.len() >= chunk {
                                let full = std::mem::replace(&mut batch, Vec::with_capacity(chunk));
                                etx.send(full).map_err(|_| Closed)?;
                            }
                            Ok(())
                        })?;
                        if !batch.is_empty() {
                            etx.send(batch).map_err(|_| Closed)?;
                        }
                        Ok(())
                    },
                )?;
                let mut result = Ok(());
                'outer: for records in erx {
                    for rec in records {
                        if let Err(e) = push(&proc_steps[1..], &mut clock, rec, &mut out) {
                            result = Err(e);
                            break 'outer;
                        }
                    }
                }
                match result {
                    Ok(()) => {
                        match extractor.join() {
                            Ok(r) => r?,
                            Err(_) => anyhow::bail!("the extractor thread panicked"),
                        }
                        finish_steps(&proc_steps, 1, &mut clock, &mut out)
                    }
                    Err(e) => Err(e),
                }
            } else {
                finish_steps(&proc_steps, 0, &mut clock, &mut out)
            };
            result?;
            if !buf.is_empty() || dropped > 0 {
                tx.blocking_send((dropped, buf)).map_err(|_| Closed)?;
            }
            Ok(())
        })?;

    let start = Instant::now();
    if opts.json {
        json_log(
            "INFO",
            &name,
            &opts.scope,
            "Starting Pipeline",
            serde_json::json!({}),
        );
    }
    let bar = (!opts.json).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_message(format!("Running pipeline: '{name}'"));
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    });
    let mut records: u64 = 0;
    let mut stats = vec![SinkStats::default(); sinks.len()];
    let mut sink_error: Option<anyhow::Error> = None;
    let freq = opts.reporting_frequency.max(1);
    let mut last_reported: u64 = 0;
    let writers: Vec<_> = sinks.iter().filter_map(Sink::progress).collect();
    // `run --prometheus`: a ticker publishes the live counters; the loop only stores the record count.
    let live_records = crate::prometheus::global().map(|_| Arc::new(AtomicU64::new(0)));
    let ticker = crate::prometheus::global()
        .zip(live_records.clone())
        .map(|(registry, count)| {
            let writers = writers.clone();
            tokio::spawn(async move {
                loop {
                    crate::prometheus::publish(registry, count.load(Ordering::Relaxed), &writers);
                    tokio::time::sleep(crate::prometheus::interval()).await;
                }
            })
        });
    let mut report = |records: u64| {
        let elapsed = start.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            records as f64 / elapsed
        } else {
            0.0
        };
        if opts.json {
            json_log(
                "INFO",
                &name,
                &opts.scope,
                "Processing Record",
                serde_json::json!({"index": records, "elapsed_seconds": elapsed, "records_per_second": rate}),
            );
            // Python drains accumulating metrics at each report: `records` is the count since the last one.
            json_log(
                "INFO",
                &name,
                &opts.scope,
                "Metrics Report",
                serde_json::json!({"records": records - last_reported}),
            );
            last_reported = records;
        } else if let Some(b) = &bar {
            let (nodes, rels) = writers.iter().fold((0, 0), |(n, r), p| {
                let s = p.snapshot();
                (n + s.nodes_upserted, r + s.relationships_upserted)
            });
            let written = if writers.is_empty() {
                String::new()
            } else {
                format!("  {nodes} nodes, {rels} relationships written")
            };
            b.set_message(format!(
                "Record {records}  elapsed {elapsed:.1}s  {rate:.0} rec/s{written}"
            ));
        }
    };
    'recv: while let Some((discarded, batch)) = rx_out.recv().await {
        if discarded > 0 {
            // Every record index that is a multiple of the frequency in this block reports, as Python does.
            let mut index = records.div_ceil(freq) * freq;
            while index < records + discarded {
                report(index);
                index += freq;
            }
            records += discarded;
        }
        for o in batch {
            if records % freq == 0 {
                report(records);
            }
            records += 1;
            if let Output::Item(item) = o {
                let n = sinks.len();
                let mut item = Some(item);
                for (i, (sink, st)) in sinks.iter_mut().zip(stats.iter_mut()).enumerate() {
                    // Clone for every sink but the last, which takes the item.
                    let it = if i + 1 == n {
                        item.take()
                    } else {
                        item.clone()
                    };
                    if let Some(it) = it
                        && let Err(e) = sink.write(it, st).await
                    {
                        sink_error = Some(e);
                        break 'recv;
                    }
                }
            }
        }
        if let Some(c) = &live_records {
            c.store(records, Ordering::Relaxed);
        }
    }
    drop(rx_out);
    // Every sink still finishes (final flush), as Python runs every step's finish on failure too.
    let mut finish_error = None;
    let mut metrics: indexmap::IndexMap<String, u64> = indexmap::IndexMap::new();
    for s in sinks {
        match s.finish().await {
            Ok(m) => {
                for (k, v) in m {
                    *metrics.entry(k).or_default() += v;
                }
            }
            Err(e) if finish_error.is_none() => finish_error = Some(e),
            Err(_) => {}
        }
    }
    if let (Some(t), Some(registry)) = (ticker, crate::prometheus::global()) {
        t.abort();
        crate::prometheus::publish(registry, records, &writers);
        registry.commit();
    }
    let step_result = tokio::task::spawn_blocking(move || processing.join())
        .await
        .map_err(|e| anyhow::anyhow!("join error: {e}"))?
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the pipeline thread panicked")));
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let step_result = match step_result {
        Err(e) if e.is::<Closed>() => Ok(()),
        other => other,
    };
    let failure = step_result.err().or(sink_error).or(finish_error);
    if let Some(e) = failure {
        if opts.json {
            json_log(
                "ERROR",
                &name,
                &opts.scope,
                "Pipeline Failed",
                serde_json::json!({"exception": format!("{e:#}")}),
            );
        }
        return Err(e.context(format!(
            "Encountered a fatal error while running pipeline '{name}' ({file})"
        )));
    }
    let skipped = stats.iter().map(|s| s.skipped).max().unwrap_or(0);
    if opts.json {
        json_log(
            "INFO",
            &name,
            &opts.scope,
            "Pipeline Completed",
            serde_json::json!({"elapsed_seconds": elapsed}),
        );
        let mut report = serde_json::json!({
            "records": records - last_reported,
            "records_total": records,
            "records_per_second": records as f64 / elapsed.max(1e-9),
        });
        if let serde_json::Value::Object(m) = &mut report {
            for (k, v) in &metrics {
                m.insert(k.clone(), (*v).into());
            }
        }
        json_log("INFO", &name, &opts.scope, "Metrics Report", report);
    }
    Ok(RunStats {
        records,
        elapsed_seconds: elapsed,
        skipped,
        metrics: metrics.into_iter().collect(),
    })
}
