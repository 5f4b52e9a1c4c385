//! The Neo4j at `--neo4j-home`: is it stopped, does its database hold data, and running its own
//! `neo4j-admin database import full` with the old store kept aside until the import succeeded.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A Neo4j home prepared for an import.
#[derive(Debug)]
pub struct Home {
    /// The home directory.
    pub dir: PathBuf,
    /// Its data directory (`server.directories.data`, default `<home>/data`).
    pub data: PathBuf,
    /// Its run directory (pid file).
    pub run: PathBuf,
}

/// Why an import cannot run.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not a home.
    #[error("{0}")]
    Home(String),
    /// The server is up.
    #[error(
        "the Neo4j server of {home} is running (pid {pid}); stop it first (scripts/neo4j stop --name …), import, then start it"
    )]
    Running {
        /// Home.
        home: String,
        /// Pid.
        pid: String,
    },
    /// Data would be replaced.
    #[error(
        "database `{db}` in {dir} already holds data; pass --overwrite to replace it (the old store is kept until the import succeeded)"
    )]
    NotEmpty {
        /// Database.
        db: String,
        /// Store directory.
        dir: String,
    },
    /// The tool failed.
    #[error(
        "neo4j-admin import failed (exit {code}); the existing database was left as it was. Last output:\n{tail}"
    )]
    Failed {
        /// Exit code.
        code: String,
        /// Its last lines.
        tail: String,
    },
    /// Disk.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn conf_value(conf: &str, key: &str) -> Option<String> {
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix(key)?.trim_start().strip_prefix('='))
        .map(|v| v.trim().to_string())
        .next_back()
}

impl Home {
    /// Reads `<dir>/conf/neo4j.conf` for the data and run directories.
    pub fn open(dir: &Path) -> Result<Home, AdminError> {
        let conf_path = dir.join("conf").join("neo4j.conf");
        let conf = std::fs::read_to_string(&conf_path).map_err(|e| {
            AdminError::Home(format!(
                "--neo4j-home {}: cannot read {}: {e} (for our own instances: --neo4j-home \"$(scripts/neo4j home --name N)\")",
                dir.display(),
                conf_path.display()
            ))
        })?;
        if !dir.join("lib").is_dir() {
            return Err(AdminError::Home(format!(
                "--neo4j-home {}: no lib/ directory with the Neo4j jars (scripts/neo4j home --name N prepares one)",
                dir.display()
            )));
        }
        let pick = |keys: &[&str], default: &str| {
            keys.iter()
                .find_map(|k| conf_value(&conf, k))
                .map(PathBuf::from)
                .map(|p| if p.is_absolute() { p } else { dir.join(p) })
                .unwrap_or_else(|| dir.join(default))
        };
        Ok(Home {
            dir: dir.to_path_buf(),
            data: pick(
                &["server.directories.data", "dbms.directories.data"],
                "data",
            ),
            run: pick(&["server.directories.run", "dbms.directories.run"], "run"),
        })
    }

    /// Fails if the server of this home is running.
    pub fn check_stopped(&self) -> Result<(), AdminError> {
        let pid_file = self.run.join("neo4j.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let pid = pid.trim().to_string();
            if !pid.is_empty() && Path::new("/proc").join(&pid).exists() {
                return Err(AdminError::Running {
                    home: self.dir.display().to_string(),
                    pid,
                });
            }
        }
        Ok(())
    }

    /// The store and transaction directories of `db`.
    pub fn store_dirs(&self, db: &str) -> [PathBuf; 2] {
        [
            self.data.join("databases").join(db),
            self.data.join("transactions").join(db),
        ]
    }

    /// Whether `db` may hold data: a node or relationship store that is not empty (a fresh database's are).
    pub fn holds_data(&self, db: &str) -> bool {
        let [store, _] = self.store_dirs(db);
        ["neostore.nodestore.db", "neostore.relationshipstore.db"]
            .iter()
            .any(|f| std::fs::metadata(store.join(f)).is_ok_and(|m| m.len() > 0))
            || (store.is_dir()
                && !store.join("neostore.nodestore.db").exists()
                && dir_nonempty(&store))
    }

    fn java(&self) -> PathBuf {
        let local = self.dir.join("bin").join("java");
        if local.exists() {
            return local;
        }
        if let Some(h) = std::env::var_os("JAVA_HOME") {
            return PathBuf::from(h).join("bin").join("java");
        }
        PathBuf::from("java")
    }

    /// The command line of the import (for `--files-only` and for running it).
    pub fn command(&self, args: &[String]) -> Vec<String> {
        let mut c = vec![
            self.java().display().to_string(),
            "-cp".to_string(),
            format!("{}/*", self.dir.join("lib").display()),
            "org.neo4j.server.startup.Neo4jAdminCommand".to_string(),
        ];
        c.extend(args.iter().cloned());
        c
    }

    /// Runs the import of `args` into `db`: the old store is moved aside first and put back if anything fails.
    pub fn import(&self, db: &str, args: &[String], log: &Path) -> Result<(), AdminError> {
        let dirs = self.store_dirs(db);
        let stamp = std::process::id();
        let aside: Vec<(PathBuf, PathBuf)> = dirs
            .iter()
            .filter(|d| d.exists())
            .map(|d| {
                let mut name = d.file_name().unwrap_or_default().to_os_string();
                name.push(format!(".nodestream-old-{stamp}"));
                (d.clone(), d.with_file_name(name))
            })
            .collect();
        for (from, to) in &aside {
            std::fs::rename(from, to)?;
        }
        let restore = || {
            for d in &dirs {
                let _ = std::fs::remove_dir_all(d);
            }
            for (from, to) in &aside {
                if let Err(e) = std::fs::rename(to, from) {
                    tracing::error!(
                        "could not put the old store back: {} → {}: {e}",
                        to.display(),
                        from.display()
                    );
                }
            }
        };
        let cmd = self.command(args);
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let status = Command::new(&cmd[0])
            .args(&cmd[1..])
            .env("NEO4J_HOME", &self.dir)
            .env("NEO4J_CONF", self.dir.join("conf"))
            .stdout(out)
            .stderr(err)
            .status();
        let status = match status {
            Ok(s) => s,
            Err(e) => {
                restore();
                return Err(AdminError::Home(format!("cannot run {}: {e}", cmd[0])));
            }
        };
        if !status.success() {
            restore();
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            return Err(AdminError::Failed {
                code: status
                    .code()
                    .map_or_else(|| "signal".into(), |c| c.to_string()),
                tail: lines[lines.len().saturating_sub(15)..].join("\n"),
            });
        }
        for (_, to) in &aside {
            let _ = std::fs::remove_dir_all(to);
        }
        Ok(())
    }
}

fn dir_nonempty(d: &Path) -> bool {
    std::fs::read_dir(d).is_ok_and(|mut r| r.next().is_some())
}

/// Quotes a word for a POSIX shell when needed.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
