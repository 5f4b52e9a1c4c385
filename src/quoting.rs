//! Cypher name quoting, one place for every statement we generate (writer, copy, migrations): labels,
//! relationship types, property and schema names cannot be parameters, so they are escaped here.

/// A name usable unquoted in every position: ASCII letter or `_`, then letters, digits, `_`.
pub fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The inside of a backtick-quoted name: inner backticks doubled (the caller writes the outer backticks).
pub fn escaped(name: &str) -> String {
    name.replace('`', "``")
}

/// Appends a name in backticks, inner backticks doubled.
pub fn push_quoted(out: &mut String, name: &str) {
    out.push('`');
    for c in name.chars() {
        if c == '`' {
            out.push('`');
        }
        out.push(c);
    }
    out.push('`');
}

/// Appends a name bare when it is plain (the Python plugin's exact text), otherwise backtick-quoted.
pub fn push_name(out: &mut String, name: &str) {
    if is_plain(name) {
        out.push_str(name);
    } else {
        push_quoted(out, name);
    }
}

/// A name bare when plain, otherwise backtick-quoted (for `format!`-built statements).
pub fn name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_name(&mut out, name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names() {
        assert!(is_plain("last_ingested_by_unknown_at") && is_plain("_x1"));
        assert!(!is_plain("1a") && !is_plain("") && !is_plain("a-b") && !is_plain("é"));
    }

    #[test]
    fn plain_names_stay_bare_and_others_are_quoted() {
        assert_eq!(name("Person"), "Person");
        assert_eq!(name("_a1"), "_a1");
        assert_eq!(name("1a"), "`1a`");
        assert_eq!(name("a b"), "`a b`");
        assert_eq!(name("a`b"), "`a``b`");
        assert_eq!(name(""), "``");
        assert_eq!(escaped("``"), "````");
        let mut s = String::new();
        push_quoted(&mut s, "Plain");
        assert_eq!(s, "`Plain`");
    }
}
