//! PyYAML's YAML 1.1 implicit resolution of plain scalars (null, booleans, integers, floats).

use super::ScalarValue;

/// PyYAML's implicit resolution of a plain scalar.
pub fn resolve_plain(text: &str) -> ScalarValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarValue::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return ScalarValue::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return ScalarValue::Bool(false);
        }
        _ => {}
    }
    if let Some(v) = resolve_int(text) {
        return v;
    }
    if let Some(v) = resolve_float(text) {
        return v;
    }
    ScalarValue::Str
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest)
    } else {
        (false, text)
    }
}

/// YAML 1.1 integers as PyYAML reads them; `None` when `text` is not one. Too large for i64 → `Str`.
pub(super) fn resolve_int(text: &str) -> Option<ScalarValue> {
    let (neg, body) = split_sign(text);
    if body.is_empty() {
        return None;
    }
    let b = body.as_bytes();
    let (digits, radix): (String, u32) = if let Some(rest) = body.strip_prefix("0b") {
        if rest.is_empty() || !rest.bytes().all(|c| c == b'0' || c == b'1' || c == b'_') {
            return None;
        }
        (rest.replace('_', ""), 2)
    } else if let Some(rest) = body.strip_prefix("0x") {
        if rest.is_empty() || !rest.bytes().all(|c| c.is_ascii_hexdigit() || c == b'_') {
            return None;
        }
        (rest.replace('_', ""), 16)
    } else if body == "0" {
        ("0".to_string(), 10)
    } else if b[0] == b'0' {
        if b.len() < 2
            || !b[1..]
                .iter()
                .all(|&c| (b'0'..=b'7').contains(&c) || c == b'_')
        {
            return None;
        }
        (body[1..].replace('_', ""), 8)
    } else if b[0].is_ascii_digit() {
        if body.contains(':') {
            // Sexagesimal: 1:30 = 90.
            let mut parts = body.split(':');
            let first = parts.next()?;
            if !first.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
                return None;
            }
            let mut total: i128 = first.replace('_', "").parse().ok()?;
            for part in parts {
                if part.is_empty() || part.len() > 2 || !part.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let v: i128 = part.parse().ok()?;
                if v > 59 || (part.len() == 2 && part.as_bytes()[0] > b'5') {
                    return None;
                }
                total = total.checked_mul(60)?.checked_add(v)?;
            }
            let total = if neg { -total } else { total };
            return Some(i64::try_from(total).map_or(ScalarValue::Str, ScalarValue::Int));
        }
        if !body.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return None;
        }
        (body.replace('_', ""), 10)
    } else {
        return None;
    };
    if digits.is_empty() {
        // `0b_` / `0x_` / `0_`: PyYAML's regex accepts them but int() fails; keep as string.
        return Some(ScalarValue::Str);
    }
    match i128::from_str_radix(&digits, radix) {
        Ok(v) => {
            let v = if neg { -v } else { v };
            Some(i64::try_from(v).map_or(ScalarValue::Str, ScalarValue::Int))
        }
        Err(_) => Some(ScalarValue::Str),
    }
}

/// YAML 1.1 floats as PyYAML reads them.
pub(super) fn resolve_float(text: &str) -> Option<ScalarValue> {
    let (neg, body) = split_sign(text);
    match body {
        ".inf" | ".Inf" | ".INF" => {
            return Some(ScalarValue::Float(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }));
        }
        ".nan" | ".NaN" | ".NAN" if text == body => return Some(ScalarValue::Float(f64::NAN)),
        _ => {}
    }
    // [0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  |  \.[0-9][0-9_]*([eE][-+][0-9]+)?  |  sexagesimal with '.'
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(exp) = exp {
        let eb = exp.as_bytes();
        if eb.len() < 2
            || !(eb[0] == b'+' || eb[0] == b'-')
            || !eb[1..].iter().all(u8::is_ascii_digit)
        {
            return None;
        }
    }
    let dot = mantissa.find('.')?;
    let (int_part, frac) = (&mantissa[..dot], &mantissa[dot + 1..]);
    if int_part.contains(':') {
        if exp.is_some() || !frac.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return None;
        }
        let mut parts = int_part.split(':');
        let first = parts.next()?;
        if first.is_empty() || !first.as_bytes()[0].is_ascii_digit() {
            return None;
        }
        let mut total: f64 = first.replace('_', "").parse().ok()?;
        for part in parts {
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let v: f64 = part.parse().ok()?;
            if v > 59.0 {
                return None;
            }
            total = total * 60.0 + v;
        }
        let f: f64 = format!("0.{}", frac.replace('_', "")).parse().ok()?;
        let v = total + f;
        return Some(ScalarValue::Float(if neg { -v } else { v }));
    }
    if int_part.is_empty() {
        // `.5` form: needs a digit right after the dot.
        if !frac.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return None;
        }
    } else if !int_part.as_bytes()[0].is_ascii_digit()
        || !int_part.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        return None;
    }
    if !frac.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
        return None;
    }
    let cleaned = body.replace('_', "");
    let cleaned = if cleaned.starts_with('.') {
        format!("0{cleaned}")
    } else {
        cleaned
    };
    let cleaned = cleaned.replace(".e", ".0e").replace(".E", ".0E");
    let v: f64 = cleaned.parse().ok()?;
    Some(ScalarValue::Float(if neg { -v } else { v }))
}
