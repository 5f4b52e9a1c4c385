//! Block-style YAML output like PyYAML's `safe_dump` (see the module docs of `yaml`).

use super::*;

/// Emitter settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmitOptions {
    /// Sort mapping keys by their text, as PyYAML's `sort_keys=True`.
    pub sort_keys: bool,
}

/// Writes `node` as a block-style YAML document (see the module docs).
pub fn emit(node: &YamlNode, opts: &EmitOptions) -> String {
    let mut out = String::new();
    match &node.kind {
        Kind::Scalar(_) => {
            if let Some(t) = &node.tag {
                out.push_str(t);
                out.push(' ');
            }
            out.push_str(&scalar_text(node));
            out.push('\n');
        }
        _ if is_empty_collection(node) => {
            if let Some(t) = &node.tag {
                out.push_str(t);
                out.push(' ');
            }
            out.push_str(empty_text(node));
            out.push('\n');
        }
        _ => {
            if let Some(t) = &node.tag {
                out.push_str(t);
                out.push('\n');
            }
            emit_block(&mut out, node, 0, opts);
        }
    }
    out
}

fn is_empty_collection(node: &YamlNode) -> bool {
    match &node.kind {
        Kind::Seq(s) => s.is_empty(),
        Kind::Map(m) => m.is_empty(),
        Kind::Scalar(_) => false,
    }
}

fn empty_text(node: &YamlNode) -> &'static str {
    if matches!(node.kind, Kind::Seq(_)) {
        "[]"
    } else {
        "{}"
    }
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

/// Writes a non-empty collection whose first line starts at the current position (already indented).
fn emit_block(out: &mut String, node: &YamlNode, indent: usize, opts: &EmitOptions) {
    match &node.kind {
        Kind::Map(entries) => {
            let mut order: Vec<&(YamlNode, YamlNode)> = entries.iter().collect();
            if opts.sort_keys {
                order.sort_by_key(|(k, _)| k.key_text());
            }
            for (i, (k, v)) in order.into_iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push_str(&scalar_text(k));
                out.push(':');
                emit_value(out, v, indent, true, opts);
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push('-');
                emit_value(out, item, indent, false, opts);
            }
        }
        Kind::Scalar(_) => {
            out.push_str(&scalar_text(node));
            out.push('\n');
        }
    }
}

/// Writes the value after `key:` or `-`.
fn emit_value(out: &mut String, v: &YamlNode, indent: usize, in_map: bool, opts: &EmitOptions) {
    let tag = v.tag.as_deref();
    match &v.kind {
        Kind::Scalar(_) => {
            out.push(' ');
            if let Some(t) = tag {
                out.push_str(t);
                out.push(' ');
            }
            out.push_str(&scalar_text(v));
            out.push('\n');
        }
        _ if is_empty_collection(v) => {
            out.push(' ');
            if let Some(t) = tag {
                out.push_str(t);
                out.push(' ');
            }
            out.push_str(empty_text(v));
            out.push('\n');
        }
        Kind::Seq(_) if in_map && tag.is_none() => {
            // PyYAML does not indent a block sequence under a mapping key.
            out.push('\n');
            pad(out, indent);
            emit_block(out, v, indent, opts);
        }
        _ if in_map || tag.is_some() => {
            if let Some(t) = tag {
                out.push(' ');
                out.push_str(t);
            }
            out.push('\n');
            pad(out, indent + 2);
            emit_block(out, v, indent + 2, opts);
        }
        _ => {
            // A collection inside a sequence starts on the dash's line.
            out.push(' ');
            emit_block(out, v, indent + 2, opts);
        }
    }
}

/// The scalar as PyYAML would write it.
fn scalar_text(node: &YamlNode) -> String {
    let Kind::Scalar(s) = &node.kind else {
        return String::new();
    };
    match s.value {
        ScalarValue::Null => "null".into(),
        ScalarValue::Bool(b) => if b { "true" } else { "false" }.into(),
        ScalarValue::Int(i) => i.to_string(),
        ScalarValue::Float(f) => crate::pyfloat::yaml(f),
        ScalarValue::Str => quote_string(&s.raw),
    }
}

/// Quotes a string the way PyYAML chooses: plain if it reads back as the same string, else single quotes,
/// or double quotes with escapes for control characters and line breaks.
pub fn quote_string(s: &str) -> String {
    let needs_double = s.chars().any(|c| c.is_control() || c == '\u{feff}');
    if needs_double {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if c.is_control() || c == '\u{feff}' => {
                    let _ = write!(out, "\\u{:04X}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        return out;
    }
    if plain_ok(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn plain_ok(s: &str) -> bool {
    if s.is_empty()
        || s == "="
        || s == "<<"
        || resolve_plain(s) != ScalarValue::Str
        || looks_like_timestamp(s)
    {
        return false;
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') {
        let second = s.chars().nth(1);
        if second.is_none() || second == Some(' ') {
            return false;
        }
    }
    if s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    // Flow indicators are fine in block context, but `, ` etc. are harmless; PyYAML quotes `:` followed by
    // a space only (handled above).
    !s.starts_with("---") && !s.starts_with("...")
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5].is_ascii_digit()
        && (b[6] == b'-' || b[7] == b'-')
}
