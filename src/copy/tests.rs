//! DB tests of copy (in-binary).
