//! Python's text form of a float, needed wherever we print a value the way Python Nodestream would
//! (`!format`, string casts, YAML emitted by `print`/`migrations make`).

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values, scientific below 1e-4 and from
/// 1e16 with a signed exponent of at least two digits (`1e+16`, `1.5e-07`), `nan`, `inf`, `-inf`.
pub fn repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == f.trunc() && f.abs() < 1e16 {
        return format!("{f:.1}");
    }
    // Rust's `Debug` picks the same shortest digits and the same switch to scientific notation as Python;
    // only the exponent is written differently (`1e16`, `1e-7`).
    let s = format!("{f:?}");
    match s.find('e') {
        Some(i) => {
            let (mantissa, exp) = (&s[..i], &s[i + 1..]);
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// PyYAML's float scalar: `repr` lower-cased, `.0` added to a mantissa without a point (so it reads back as
/// a float), `.nan`, `.inf`, `-.inf`.
pub fn yaml(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let r = repr(f);
    if !r.contains('.') && r.contains('e') {
        r.replacen('e', ".0e", 1)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_repr() {
        for (f, want) in [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (1e16, "1e+16"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (1e300, "1e+300"),
            (9999999999999998.0, "9999999999999998.0"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(repr(f), want, "{f}");
        }
    }

    #[test]
    fn matches_pyyaml() {
        assert_eq!(yaml(1e16), "1.0e+16");
        assert_eq!(yaml(1.5e-7), "1.5e-07");
        assert_eq!(yaml(2.0), "2.0");
        assert_eq!(yaml(f64::INFINITY), ".inf");
        assert_eq!(yaml(f64::NAN), ".nan");
    }
}
