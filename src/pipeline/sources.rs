//! Remote and bulk-data sources of the FileExtractor: spooling for formats that must seek (parquet), HTTP(S)
//! files (`type: http`) and S3 objects (`type: s3`), with Python Nodestream 0.16's option names.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Python's default `memory_spooling_max_size_in_mb` (10 MiB).
pub const DEFAULT_SPOOL_BYTES: usize = 10 * 1024 * 1024;

/// A stream made seekable: in memory while it is small, else in an anonymous temporary file.
enum Spooled {
    Memory(bytes::Bytes),
    Disk(std::fs::File),
}

fn spool(mut reader: Box<dyn Read>, max_memory: usize) -> std::io::Result<Spooled> {
    let mut head = Vec::new();
    // One byte past the limit tells whether the stream fits.
    (&mut reader)
        .take(max_memory as u64 + 1)
        .read_to_end(&mut head)?;
    if head.len() <= max_memory {
        return Ok(Spooled::Memory(head.into()));
    }
    let mut file = tempfile::tempfile()?;
    file.write_all(&head)?;
    drop(head);
    std::io::copy(&mut reader, &mut file)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(Spooled::Disk(file))
}

/// Reads parquet from `local` in place when given, else from `reader` spooled (parquet's footer is at the end).
pub(super) fn read_parquet<E>(
    reader: Box<dyn Read>,
    local: Option<&Path>,
    spool_bytes: usize,
    emit: &mut dyn FnMut(crate::record::Doc) -> Result<(), E>,
) -> Result<(), Result<E, String>> {
    if let Some(path) = local {
        drop(reader);
        let file = std::fs::File::open(path).map_err(|e| Err(e.to_string()))?;
        return super::parquet::read(file, emit);
    }
    match spool(reader, spool_bytes).map_err(|e| Err(e.to_string()))? {
        Spooled::Memory(b) => super::parquet::read(b, emit),
        Spooled::Disk(f) => super::parquet::read(f, emit),
    }
}

/// Every record the FileExtractor reads from one local file, as JSON (for tests and tools).
pub fn read_file_json(path: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    super::extractors::read_file(path, &mut |x| {
        if let super::extractors::Extracted::Data(d) = x {
            out.push(crate::record::to_json(&d.var()));
        }
        Ok(())
    })?;
    Ok(out)
}
