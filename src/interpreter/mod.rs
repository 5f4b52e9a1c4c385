//! The interpreter: records to nodes and relationships, value providers and normalizers (spec §2.7–§2.11).
