//! Pipeline files and their steps: extractors, filters, transformers (spec §2.1–§2.6).
