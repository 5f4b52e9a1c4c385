//! `nodestream copy`: the type retriever and the copier (spec §5.2, §7.2).
