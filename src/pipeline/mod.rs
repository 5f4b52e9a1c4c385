//! Pipeline files and their steps: extractors, filters, transformers, the interpreter and writer steps
//! (spec §2.1–§2.6), and the runtime that streams records through them (spec §2.2).
//!
//! Runtime: the first extractor runs on its own thread; the remaining steps run on a second thread; both
//! hand records on through bounded channels of `step_outbox_size`, so memory stays flat. What comes out of
//! the last step goes to the sinks ([`sink`]) on the async side.

pub mod extractors;
pub mod parquet;
pub mod run;
pub mod sink;
pub mod sources;
pub mod steps;

use crate::interpreter::{Clock, Interpreter};
use crate::model::Ingestible;
use crate::project::yaml::{self, YamlNode};
use crate::project::{
    LoadError, ResolveCtx, ResolvedTarget, Target, check_keys, resolve_tags, string_list,
};
use crate::record::Doc;
use extractors::{Extracted, Extractor};
use steps::{Filter, Transformer};

/// A built step.
#[derive(Debug)]
pub enum Step {
    /// Emits records (ignores input).
    Extractor(Extractor),
    /// Records → desired ingestions.
    Interpreter(Box<Interpreter>),
    /// Drops records.
    Filter(Filter),
    /// Rewrites records.
    Transformer(Transformer),
    /// An explicit `GraphDatabaseWriter` step (becomes a sink).
    Writer(ResolvedTarget),
    /// `PassStep`: passes records through.
    Pass,
}

/// A pipeline file loaded for one run.
#[derive(Debug)]
pub struct LoadedPipeline {
    /// Pipeline name.
    pub name: String,
    /// File.
    pub file: String,
    /// Steps in order (after annotation filtering).
    pub steps: Vec<Step>,
}

/// Which steps to build.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `run -a`: steps with annotations load only if they share one with this set.
    pub annotations: Vec<String>,
    /// Schema inference: build only interpreters, ignore other steps.
    pub introspection: bool,
}

/// A step kind by its Python `implementation` string (spec §2.1).
fn classify(implementation: &str) -> Option<&'static str> {
    let (module, class) = implementation.split_once(':')?;
    // The modules that export each class in Python Nodestream 0.16.
    let modules: &[&str] = match class {
        "FileExtractor" => &[
            "nodestream.pipeline.extractors",
            "nodestream.pipeline.extractors.files",
        ],
        "IterableExtractor" => &[
            "nodestream.pipeline",
            "nodestream.pipeline.extractors",
            "nodestream.pipeline.extractors.iterable",
        ],
        "TimeToLiveConfigurationExtractor" => &[
            "nodestream.pipeline.extractors",
            "nodestream.pipeline.extractors.ttls",
        ],
        "Neo4jExtractor" => &[
            "nodestream_plugin_neo4j.extractor",
            "nodestream_plugin_neo4j",
        ],
        "Interpreter" => &[
            "nodestream.interpreting",
            "nodestream.interpreting.interpreter",
        ],
        "ValuesMatchPossibilitiesFilter"
        | "ExcludeWhenValuesMatchPossibilities"
        | "ValueMatchesRegexFilter" => &["nodestream.pipeline.filters", "nodestream.pipeline"],
        "ValueProjection" => &[
            "nodestream.pipeline.transformers",
            "nodestream.pipeline.transformers.value_projection",
        ],
        "ExpandJsonField" => &[
            "nodestream.pipeline.transformers",
            "nodestream.pipeline.transformers.expand_json_field",
        ],
        "SwitchTransformer" => &[
            "nodestream.pipeline.transformers",
            "nodestream.pipeline.transformers.transformer",
        ],
        "PassStep" => &[
            "nodestream.pipeline",
            "nodestream.pipeline.step",
            "nodestream.pipeline.filters",
        ],
        "GraphDatabaseWriter" => &["nodestream.databases", "nodestream.databases.writer"],
        _ => return None,
    };
    if !modules.contains(&module) {
        return None;
    }
    Some(match class {
        "FileExtractor" => "FileExtractor",
        "IterableExtractor" => "IterableExtractor",
        "TimeToLiveConfigurationExtractor" => "TimeToLiveConfigurationExtractor",
        "Neo4jExtractor" => "Neo4jExtractor",
        "Interpreter" => "Interpreter",
        "ValuesMatchPossibilitiesFilter" => "ValuesMatchPossibilitiesFilter",
        "ExcludeWhenValuesMatchPossibilities" => "ExcludeWhenValuesMatchPossibilities",
        "ValueMatchesRegexFilter" => "ValueMatchesRegexFilter",
        "ValueProjection" => "ValueProjection",
        "ExpandJsonField" => "ExpandJsonField",
        "SwitchTransformer" => "SwitchTransformer",
        "PassStep" => "PassStep",
        _ => "GraphDatabaseWriter",
    })
}

fn unsupported(file: &str, node: &YamlNode, index: usize, implementation: &str) -> LoadError {
    LoadError::at(
        file,
        node,
        format!(
            "step {index}: implementation `{implementation}` is not supported (Python classes cannot run here; supported: FileExtractor, IterableExtractor, TimeToLiveConfigurationExtractor, Neo4jExtractor, Interpreter, ValuesMatchPossibilitiesFilter, ExcludeWhenValuesMatchPossibilities, ValueMatchesRegexFilter, ValueProjection, ExpandJsonField, SwitchTransformer, PassStep, GraphDatabaseWriter)"
        ),
    )
}

/// Loads a pipeline file and builds its steps.
pub fn load_pipeline(
    path: &str,
    name: &str,
    config: Option<&YamlNode>,
    opts: &LoadOptions,
) -> Result<LoadedPipeline, LoadError> {
    let root = yaml::load_file(std::path::Path::new(path))?;
    let file = path.to_string();
    let Some(items) = root.as_seq() else {
        return Err(LoadError::at(
            &file,
            &root,
            format!(
                "a pipeline file must be a list of steps, found {}",
                root.type_name()
            ),
        ));
    };
    let mut steps = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let index = index + 1;
        check_keys(
            item,
            &file,
            &format!("step {index}"),
            &["implementation", "factory", "arguments", "annotations"],
        )?;
        let imp_node = item.get("implementation").ok_or_else(|| {
            LoadError::at(&file, item, format!("step {index} needs `implementation`"))
        })?;
        let implementation = imp_node.as_str().ok_or_else(|| {
            LoadError::at(
                &file,
                imp_node,
                format!("step {index}: `implementation` must be a string like `module:Class`"),
            )
        })?;
        if let Some(a) = item.get("annotations") {
            let annotations = string_list(a, &file, &format!("step {index} annotations"))?;
            if opts.introspection {
                // Schema inference loads with the annotation set {introspection}.
                if !annotations.is_empty() && !annotations.iter().any(|x| x == "introspection") {
                    continue;
                }
            } else if !annotations.is_empty()
                && !opts.annotations.is_empty()
                && !annotations.iter().any(|x| opts.annotations.contains(x))
            {
                continue;
            }
        }
        let factory = item.get("factory").map(YamlNode::key_text);
        let kind = classify(implementation);
        if opts.introspection && kind != Some("Interpreter") {
            continue;
        }
        let Some(kind) = kind else {
            return Err(unsupported(&file, imp_node, index, implementation));
        };
        let empty = YamlNode::map(Vec::<(String, YamlNode)>::new());
        let raw_args = item
            .get("arguments")
            .filter(|a| !a.is_null())
            .unwrap_or(&empty);
        let ctx = ResolveCtx {
            file: &file,
            config,
            value_providers: true,
        };
        let args = resolve_tags(raw_args, &ctx)?;
        if args.as_map().is_none() {
            return Err(LoadError::at(
                &file,
                &args,
                format!(
                    "step {index}: `arguments` must be a mapping, found {}",
                    args.type_name()
                ),
            ));
        }
        let wrap = |e: LoadError| LoadError {
            message: format!("step {index} ({kind}): {}", e.message),
            ..e
        };
        let step = match kind {
            "FileExtractor" => {
                Step::Extractor(Extractor::files(factory.as_deref(), &args, &file).map_err(wrap)?)
            }
            "IterableExtractor" => Step::Extractor(
                Extractor::iterable(factory.as_deref(), &args, &file).map_err(wrap)?,
            ),
            "TimeToLiveConfigurationExtractor" => {
                Step::Extractor(Extractor::ttl(&args, &file).map_err(wrap)?)
            }
            "Neo4jExtractor" => {
                let json = args.to_json();
                let Some(map) = json.as_object().filter(|m| m.contains_key("query")) else {
                    return Err(LoadError::at(
                        &file,
                        &args,
                        format!("step {index}: the Neo4jExtractor needs `query`"),
                    ));
                };
                Step::Extractor(Extractor::Neo4j(extractors::Neo4jArguments(map.clone())))
            }
            "Interpreter" => Step::Interpreter(Box::new(
                Interpreter::from_args(&args, &file, name).map_err(wrap)?,
            )),
            "ValuesMatchPossibilitiesFilter" => {
                Step::Filter(Filter::possibilities(&args, &file, false).map_err(wrap)?)
            }
            "ExcludeWhenValuesMatchPossibilities" => {
                Step::Filter(Filter::possibilities(&args, &file, true).map_err(wrap)?)
            }
            "ValueMatchesRegexFilter" => Step::Filter(Filter::regex(&args, &file).map_err(wrap)?),
            "ValueProjection" => {
                Step::Transformer(Transformer::projection(&args, &file).map_err(wrap)?)
            }
            "ExpandJsonField" => {
                Step::Transformer(Transformer::expand_json(&args, &file).map_err(wrap)?)
            }
            "SwitchTransformer" => {
                Step::Transformer(switch_transformer(&args, &file).map_err(wrap)?)
            }
            "PassStep" => {
                check_keys(
                    &args,
                    &file,
                    &format!("step {index} (PassStep) arguments"),
                    &[],
                )?;
                Step::Pass
            }
            "GraphDatabaseWriter" => {
                if args.get("database").is_none() {
                    return Err(LoadError::at(
                        &file,
                        &args,
                        format!("step {index}: the GraphDatabaseWriter needs `database`"),
                    ));
                }
                let t = Target {
                    name: format!("{name} step {index}"),
                    node: args.clone(),
                    file: file.clone(),
                };
                Step::Writer(t.resolve().map_err(wrap)?)
            }
            _ => return Err(unsupported(&file, imp_node, index, implementation)),
        };
        steps.push(step);
    }
    Ok(LoadedPipeline {
        name: name.to_string(),
        file,
        steps,
    })
}

fn switch_transformer(args: &YamlNode, file: &str) -> Result<Transformer, LoadError> {
    let build = |n: &YamlNode| -> Result<Transformer, LoadError> {
        check_keys(
            n,
            file,
            "a SwitchTransformer case",
            &["implementation", "arguments", "factory"],
        )?;
        let imp = n
            .get("implementation")
            .and_then(YamlNode::as_str)
            .unwrap_or_default();
        let empty = YamlNode::map(Vec::<(String, YamlNode)>::new());
        let a = n.get("arguments").unwrap_or(&empty);
        match classify(imp) {
            Some("ValueProjection") => Transformer::projection(a, file),
            Some("ExpandJsonField") => Transformer::expand_json(a, file),
            Some("SwitchTransformer") => switch_transformer(a, file),
            _ => Err(LoadError::at(
                file,
                n,
                format!("SwitchTransformer case: `{imp}` is not a supported transformer"),
            )),
        }
    };
    Transformer::switch(args, file, &build)
}

/// What flows between steps.
#[allow(clippy::large_enum_variant)] // Boxing would add an allocation per record.
pub enum Record {
    /// Data.
    Data(Doc),
    /// Something for the writers.
    Item(Ingestible),
}

/// What leaves the last step.
#[allow(clippy::large_enum_variant)] // Boxing would add an allocation per record.
pub enum Output {
    /// A data record nobody interpreted (counted, not written).
    Data,
    /// An item for the sinks.
    Item(Ingestible),
}

/// Pushes one record through `steps`, calling `out` for what leaves the last step.
pub fn push(
    steps: &[Step],
    clock: &mut Clock,
    rec: Record,
    out: &mut dyn FnMut(Output) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some((first, rest)) = steps.split_first() else {
        return out(match rec {
            Record::Data(_) => Output::Data,
            Record::Item(i) => Output::Item(i),
        });
    };
    match (first, rec) {
        // A later extractor passes its input through (Python's default `process_record`) and emits its own
        // records once its input ends (`finish_steps`); writers are sinks, not steps here.
        (Step::Extractor(_) | Step::Writer(_) | Step::Pass, rec) => push(rest, clock, rec, out),
        (_, Record::Item(i)) => push(rest, clock, Record::Item(i), out),
        (Step::Interpreter(interp), Record::Data(d)) => {
            let now = clock.now().clone();
            interp.interpret(d, &now, &mut |di| {
                push(rest, clock, Record::Item(Ingestible::Ingestion(di)), out)
            })
        }
        (Step::Filter(f), Record::Data(d)) => {
            if f.keep(&d).map_err(anyhow::Error::msg)? {
                push(rest, clock, Record::Data(d), out)
            } else {
                Ok(())
            }
        }
        (Step::Transformer(t), Record::Data(d)) => {
            t.apply(d, &mut |r| push(rest, clock, Record::Data(r), out))
        }
    }
}

/// Runs each extractor that is not first: it emits its records through the steps after it.
pub fn finish_steps(
    steps: &[Step],
    from: usize,
    clock: &mut Clock,
    out: &mut dyn FnMut(Output) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for i in from..steps.len() {
        if let Step::Extractor(e) = &steps[i] {
            let rest = &steps[i + 1..];
            e.run(&mut |x| {
                let rec = match x {
                    Extracted::Data(d) => Record::Data(d),
                    Extracted::Ttl(t) => Record::Item(Ingestible::TimeToLive(t)),
                };
                push(rest, clock, rec, out)
            })?;
        }
    }
    Ok(())
}
