//! Writes the benchmark's data and project: `cargo bench --bench gen_load_data -- DIR ROWS URI PASSWORD`.
//! The same generator as the writer's tests (tests/writer_support/data.rs); prints the expected counts as JSON.

#[path = "../tests/writer_support/data.rs"]
mod data;

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    // `cargo bench` appends `--bench`; keep only our positional arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [dir, rows, uri, password, ..] = args.as_slice() else {
        eprintln!("usage: gen_load_data DIR ROWS URI PASSWORD [PREFIX]");
        std::process::exit(2);
    };
    let prefix = args.get(4).map(String::as_str).unwrap_or("Bench");
    let rows: usize = rows.parse().unwrap_or_else(|_| {
        eprintln!("gen_load_data: ROWS must be a number, got {rows}");
        std::process::exit(2)
    });
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("airports.csv");
    let e = data::write_airports_csv(&csv, rows)?;
    std::fs::write(
        dir.join("airports.yaml"),
        data::airports_pipeline(prefix, &csv),
    )?;
    std::fs::write(
        dir.join("nodestream.yaml"),
        format!(
            "scopes:\n  default:\n    pipelines:\n      - path: {}\n        name: airports\ntargets:\n  bench:\n    database: neo4j\n    uri: {uri}\n    username: neo4j\n    password: {password}\n",
            dir.join("airports.yaml").display()
        ),
    )?;
    println!(
        "{{\"airports\": {}, \"countries\": {}, \"regions\": {}, \"within\": {}}}",
        e.airports, e.countries, e.regions, e.within
    );
    Ok(())
}
