//! `nodestream`: the command line over the `nodestream` library (`src/lib.rs`).

use std::process::ExitCode;

/// mimalloc: records are allocated on the reading thread and freed on the interpreting thread, a pattern
/// glibc malloc handles poorly (it was half the CPU profile of the interpretation benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match nodestream::cli::main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
