//! `nodestream migrations make|run|show|squash` (spec §5.3).

use super::driver;
use super::file;
use super::graph::{Migration, MigrationGraph};
use super::neo4j::Migrator;
use super::schema::{self, Questions, Schema};
use super::target;
use crate::project::Project;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `nodestream migrations …`
#[derive(Debug, Args)]
pub struct MigrationsArgs {
    /// The migrations command.
    #[command(subcommand)]
    pub command: MigrationsCommand,
}

/// The four migrations commands.
#[derive(Debug, Subcommand)]
pub enum MigrationsCommand {
    /// Generate a migration for the current project.
    Make(MakeArgs),
    /// Execute pending migrations on the specified target.
    Run(RunArgs),
    /// List all migrations for the current project and their state on each target.
    Show(ShowArgs),
    /// Generate a squashed migration from a range of migrations.
    Squash(SquashArgs),
}

/// The options every migrations command takes.
#[derive(Debug, Args)]
pub struct ProjectArg {
    /// The project file (nodestream.yaml).
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// Ask nothing (Python's global option; `make` then answers "no" to rename questions).
    #[arg(short = 'n', long = "no-interaction")]
    pub no_interaction: bool,
}

/// `migrations make`
#[derive(Debug, Args)]
pub struct MakeArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// Don't generate the migration file, just output the detected changes.
    #[arg(long)]
    dry_run: bool,
}

/// `migrations run`
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// A target to migrate (repeatable).
    #[arg(short = 't', long = "target")]
    target: Vec<String>,
    /// Run migrations on all targets.
    #[arg(short = 'a', long = "all-targets")]
    all_targets: bool,
    /// Log as JSON lines.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// Seconds to wait for a migration lock held by another run before failing.
    #[arg(long, default_value_t = 60.0)]
    lock_timeout: f64,
}

/// `migrations show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// A target to show (repeatable; default: all).
    #[arg(short = 't', long = "target")]
    target: Vec<String>,
}

/// `migrations squash`
#[derive(Debug, Args)]
pub struct SquashArgs {
    #[command(flatten)]
    project: ProjectArg,
    /// The name of the migration to squash from.
    #[arg(long)]
    from: String,
    /// The name of the migration to squash to.
    #[arg(long)]
    to: Option<String>,
}

/// Runs a migrations command.
pub fn run(args: MigrationsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        MigrationsCommand::Make(a) => make(a),
        MigrationsCommand::Run(a) => runtime()?.block_on(run_migrations(a)),
        MigrationsCommand::Show(a) => runtime()?.block_on(show(a)),
        MigrationsCommand::Squash(a) => squash(a),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn load_graph(project: &Path) -> anyhow::Result<(PathBuf, MigrationGraph)> {
    let dir = file::directory_for(project);
    let graph = file::load_dir(&dir)?;
    Ok((dir, graph))
}

/// Asks on the terminal; anything but y/yes is "no".
struct Terminal;

impl Questions for Terminal {
    fn ask(&mut self, question: &str) -> bool {
        print!("{question} (yes/no) [no] ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            return false;
        }
        matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }
}

fn describe(out: &mut impl std::io::Write, heading: &str, m: &Migration) -> std::io::Result<()> {
    writeln!(out, "{heading} {}.", m.name)?;
    writeln!(
        out,
        "The migration contains {} schema changes.",
        m.operations.len()
    )?;
    for op in &m.operations {
        writeln!(out, "  - {op}")?;
    }
    Ok(())
}

/// The project's inferred schema (spec §6.3), as the diff sees it.
fn project_schema(project: &Project) -> anyhow::Result<Schema> {
    let inferred = crate::schema::infer_project(project, &[])?;
    let mut out = Schema::default();
    for t in inferred.types.values() {
        let mut ty = schema::TypeSchema::default();
        for (name, meta) in &t.properties {
            ty.add_property(
                name,
                schema::PropertyMeta {
                    is_key: meta.is_key,
                    is_indexed: meta.is_indexed,
                },
            );
        }
        let map = match t.kind {
            crate::schema::ObjectKind::Node => &mut out.nodes,
            crate::schema::ObjectKind::Relationship => &mut out.relationships,
        };
        map.insert(t.name.clone(), ty);
    }
    Ok(out)
}

/// The migration `make` would write, or `None` without changes.
pub fn detect_changes(
    graph: &MigrationGraph,
    project: &Schema,
    q: &mut dyn Questions,
) -> Result<Option<Migration>, super::Error> {
    let migrated = Schema::from_migrations(graph)?;
    let operations = schema::diff(&migrated, project, q)?;
    if operations.is_empty() {
        return Ok(None);
    }
    let stamp = chrono::Local::now().format("%Y%m%d%H%M%S").to_string();
    let name = match operations.as_slice() {
        [only] => format!("{stamp}_{}", only.name_slug()),
        _ => stamp,
    };
    let dependencies = graph.leaves().into_iter().map(|m| m.name.clone()).collect();
    Ok(Some(Migration {
        name,
        operations,
        dependencies,
        replaces: vec![],
    }))
}

fn make(a: MakeArgs) -> anyhow::Result<ExitCode> {
    let (dir, graph) = load_graph(&a.project.project)?;
    let project = project_schema(&Project::load(&a.project.project)?)?;
    let mut no = schema::AlwaysNo;
    let mut term = Terminal;
    let q: &mut dyn Questions = if a.project.no_interaction || !std::io::stdin().is_terminal() {
        &mut no
    } else {
        &mut term
    };
    let mut out = std::io::stdout().lock();
    let Some(migration) = detect_changes(&graph, &project, q)? else {
        writeln!(out, "No changes to migrate")?;
        return Ok(ExitCode::SUCCESS);
    };
    describe(&mut out, "Generated migration", &migration)?;
    if !a.dry_run {
        let path = file::write(&dir, &migration)?;
        writeln!(out, "Migration written to {}", path.display())?;
        writeln!(
            out,
            "Run `nodestream migrations run` to apply the migration."
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn squash(a: SquashArgs) -> anyhow::Result<ExitCode> {
    let (dir, graph) = load_graph(&a.project.project)?;
    let migration = graph.squash(&a.from, a.to.as_deref())?;
    let path = file::write(&dir, &migration)?;
    let mut out = std::io::stdout().lock();
    describe(&mut out, "Generated squashed migration", &migration)?;
    writeln!(out, "Migration written to {}", path.display())?;
    writeln!(
        out,
        "Run `nodestream migrations run` to apply the migration."
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn run_migrations(a: RunArgs) -> anyhow::Result<ExitCode> {
    let project = Project::load(&a.project.project)?;
    let names = if a.all_targets {
        target::names(&project)
    } else {
        a.target.clone()
    };
    if names.is_empty() {
        println!("No targets specified, nothing to do.");
        return Ok(ExitCode::SUCCESS);
    }
    let (_, graph) = load_graph(&a.project.project)?;
    let lock_timeout = Duration::try_from_secs_f64(a.lock_timeout)
        .context("--lock-timeout must be a non-negative number of seconds")?;
    let console = !a.json && std::io::stdout().is_terminal();
    for name in names {
        let target = target::target(&project, &name)?;
        let db = driver::connect(&target)
            .await
            .with_context(|| format!("target {name}"))?;
        let mut migrator = Migrator::new(&db, target.options);
        migrator.lock_timeout = lock_timeout;
        if let Ok(completed) = migrator.completed().await {
            warn_unknown(&graph, &completed, &name);
        }
        let progress = console.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!("Executing migrations on target {name}..."));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        let result = migrator
            .run_pending(&graph, |m| {
                let message = format!("Migration {} executed successfully.", m.name);
                match &progress {
                    Some(bar) => bar.set_message(message),
                    None if a.json => eprintln!(
                        "{}",
                        serde_json::json!({"level": "INFO", "message": message, "target": name})
                    ),
                    None => println!("{message}"),
                }
            })
            .await;
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        db.close().await;
        result.with_context(|| format!("target {name}"))?;
        if !a.json {
            println!("Migrations executed on target {name}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Warns about names recorded on the target that the project does not have (Python crashes on them).
fn warn_unknown(
    graph: &MigrationGraph,
    completed: &std::collections::HashSet<String>,
    target: &str,
) {
    let mut unknown: Vec<&String> = completed
        .iter()
        .filter(|c| graph.get(c).is_none())
        .collect();
    unknown.sort();
    for name in unknown {
        eprintln!(
            "warning: migration '{name}' is recorded on target {target} but is not among the project's migrations; ignoring it"
        );
    }
}

/// Renders a table as Cleo does (`+---+` borders, cells padded to the widest by character count).
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let border: String = widths.iter().fold(String::from("+"), |mut s, w| {
        s.push_str(&"-".repeat(w + 2));
        s.push('+');
        s
    });
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (i, w) in widths.iter().enumerate() {
            let cell = cells.get(i).map_or("", String::as_str);
            s.push(' ');
            s.push_str(cell);
            s.push_str(&" ".repeat(w - cell.chars().count() + 1));
            s.push('|');
        }
        s
    };
    let mut out = format!("{border}\n{}\n{border}\n", line(headers));
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out.push_str(&border);
    out.push('\n');
    out
}

async fn show(a: ShowArgs) -> anyhow::Result<ExitCode> {
    let project = Project::load(&a.project.project)?;
    let mut names = if a.target.is_empty() {
        target::names(&project)
    } else {
        a.target.clone()
    };
    names.sort();
    names.dedup();
    let (_, graph) = load_graph(&a.project.project)?;
    let mut applied: BTreeMap<&str, Vec<bool>> =
        graph.all().map(|m| (m.name.as_str(), Vec::new())).collect();
    for name in &names {
        let target = target::target(&project, name)?;
        let db = driver::connect(&target)
            .await
            .with_context(|| format!("target {name}"))?;
        let completed = Migrator::new(&db, target.options)
            .completed()
            .await
            .with_context(|| format!("target {name}"));
        db.close().await;
        let completed = completed?;
        warn_unknown(&graph, &completed, name);
        for (m, cells) in applied.iter_mut() {
            cells.push(completed.contains(*m));
        }
    }
    let mut headers = vec!["Migration".to_owned()];
    headers.extend(names.iter().cloned());
    let rows: Vec<Vec<String>> = applied
        .into_iter()
        .map(|(m, cells)| {
            let mut row = vec![m.to_owned()];
            row.extend(
                cells
                    .into_iter()
                    .map(|done| if done { "✅" } else { "❌" }.to_owned()),
            );
            row
        })
        .collect();
    print!("{}", table(&headers, &rows));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_cleo() {
        let t = table(
            &["Migration".into(), "db".into(), "other".into()],
            &[vec!["20261125014411".into(), "❌".into(), "✅".into()]],
        );
        assert_eq!(
            t,
            "+----------------+----+-------+\n| Migration      | db | other |\n+----------------+----+-------+\n| 20261125014411 | ❌  | ✅     |\n+----------------+----+-------+\n"
        );
    }

    #[test]
    fn make_names_a_single_operation_migration_by_its_slug_and_depends_on_leaves() {
        let mut project = Schema::default();
        project.relationships.insert("R".into(), Default::default());
        let graph = MigrationGraph::new([Migration {
            name: "a".into(),
            operations: vec![],
            dependencies: vec![],
            replaces: vec![],
        }])
        .unwrap();
        let m = detect_changes(&graph, &project, &mut schema::AlwaysNo)
            .unwrap()
            .unwrap();
        assert!(
            m.name.ends_with("_create_relationship_type_r"),
            "{}",
            m.name
        );
        assert_eq!(m.name.len(), 14 + "_create_relationship_type_r".len());
        assert_eq!(m.dependencies, ["a"]);
        assert!(
            detect_changes(
                &MigrationGraph::default(),
                &Schema::default(),
                &mut schema::AlwaysNo
            )
            .unwrap()
            .is_none()
        );
    }
}
