//! Property tests: PackStream encode/decode round trips, and decoders that never panic on any input.

use bolt::packstream::decode::{DecodeError, MAX_DEPTH, from_bytes};
use bolt::packstream::{Encode, encode};
use bolt::value::*;
use bolt::{Map, Value};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        (-200i64..200).prop_map(Value::Integer),
        any::<f64>()
            .prop_filter("NaN never equals itself", |f| !f.is_nan())
            .prop_map(Value::Float),
        ".{0,40}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Bytes(Bytes::from(b))),
        any::<i64>().prop_map(|days| Value::Date(Date { days })),
        (any::<i64>(), -64_800i64..64_800).prop_map(|(n, o)| Value::Time(Time {
            nanoseconds: n,
            tz_offset_seconds: o
        })),
        any::<i64>().prop_map(|n| Value::LocalTime(LocalTime { nanoseconds: n })),
        (any::<i64>(), 0i64..1_000_000_000, -64_800i64..64_800).prop_map(|(s, n, o)| {
            Value::DateTime(DateTime {
                seconds: s,
                nanoseconds: n,
                tz_offset_seconds: o,
            })
        }),
        (any::<i64>(), 0i64..1_000_000_000, "[A-Za-z_/]{1,20}").prop_map(|(s, n, z)| {
            Value::DateTimeZoneId(DateTimeZoneId {
                seconds: s,
                nanoseconds: n,
                tz_id: z,
            })
        }),
        (any::<i64>(), any::<i64>()).prop_map(|(s, n)| Value::LocalDateTime(LocalDateTime {
            seconds: s,
            nanoseconds: n
        })),
        (any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()).prop_map(|(m, d, s, n)| {
            Value::Duration(bolt::value::Duration {
                months: m,
                days: d,
                seconds: s,
                nanoseconds: n,
            })
        }),
        (any::<i64>(), -1e9f64..1e9, -1e9f64..1e9)
            .prop_map(|(srid, x, y)| Value::Point2D(Point2D { srid, x, y })),
        (any::<i64>(), -1e9f64..1e9, -1e9f64..1e9, -1e9f64..1e9)
            .prop_map(|(srid, x, y, z)| Value::Point3D(Point3D { srid, x, y, z })),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 200, 20, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::List),
            proptest::collection::vec((".{0,12}", inner), 0..20)
                .prop_map(|kv| Value::Map(kv.into_iter().collect::<Map>())),
        ]
    })
}

fn encoded(v: &Value) -> Bytes {
    let mut b = BytesMut::new();
    v.encode(&mut b);
    b.freeze()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn round_trip(v in value()) {
        prop_assert_eq!(from_bytes(encoded(&v)).unwrap(), v);
    }

    #[test]
    fn legacy_datetime_round_trip(v in value()) {
        let mut b = BytesMut::new();
        encode::value(&mut b, &v, bolt::packstream::WireFormat::Legacy);
        prop_assert_eq!(from_bytes(b.freeze()).unwrap(), v);
    }

    #[test]
    fn integers_use_the_smallest_form(i in any::<i64>()) {
        let len = encoded(&Value::Integer(i)).len();
        let expect = match i {
            -16..=127 => 1,
            -128..=127 => 2,
            -32_768..=32_767 => 3,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        };
        prop_assert_eq!(len, expect);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        bolt::fuzzing::packstream_decode(&data);
        bolt::fuzzing::chunk_reader(&data);
        bolt::fuzzing::handshake_reply(&data);
        bolt::fuzzing::message_decode(&data);
    }

    #[test]
    fn damaged_encodings_are_errors_not_panics(v in value(), cut in any::<prop::sample::Index>(), flip in any::<(prop::sample::Index, u8)>()) {
        let b = encoded(&v);
        let truncated = b.slice(..cut.index(b.len()));
        if truncated.len() < b.len() {
            prop_assert!(from_bytes(truncated).is_err());
        }
        let mut m = b.to_vec();
        let i = flip.0.index(m.len());
        m[i] ^= flip.1;
        let _ = from_bytes(Bytes::from(m));
    }
}

#[test]
fn deep_nesting_is_refused_without_recursion_blowup() {
    let mut deep = vec![0x91u8; 100_000];
    deep.push(0x01);
    assert_eq!(from_bytes(Bytes::from(deep)), Err(DecodeError::TooDeep));
    let mut ok = vec![0x91u8; MAX_DEPTH - 1];
    ok.push(0x01);
    assert!(from_bytes(Bytes::from(ok)).is_ok());
}

#[test]
fn huge_declared_sizes_fail_before_allocating() {
    for input in [
        &[0xD6, 0x7F, 0xFF, 0xFF, 0xFF][..],
        &[0xDA, 0x7F, 0xFF, 0xFF, 0xFF],
        &[0xD2, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0xCE, 0x00, 0x10, 0x00, 0x00, 1, 2, 3],
        &[0xD4, 0x03, 0x01],
    ] {
        assert!(
            matches!(
                from_bytes(Bytes::copy_from_slice(input)),
                Err(DecodeError::Size { .. })
            ),
            "{input:02X?}"
        );
    }
}

#[test]
fn reserved_markers_and_bad_structures_are_errors() {
    for m in [
        0xC4u8, 0xC5, 0xC6, 0xC7, 0xCF, 0xD3, 0xD7, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xEF,
    ] {
        assert!(
            matches!(
                from_bytes(Bytes::copy_from_slice(&[m])),
                Err(DecodeError::Marker { .. })
            ),
            "{m:02X}"
        );
    }
    // Unknown tag, wrong field count, non-string key, trailing bytes, invalid UTF-8.
    for input in [
        &[0xB1, b'Z', 0x01][..],
        &[0xB2, b'D', 1, 2],
        &[0xA1, 0x01, 0x01],
        &[0x01, 0x02],
        &[0x81, 0xFF],
    ] {
        assert!(
            from_bytes(Bytes::copy_from_slice(input)).is_err(),
            "{input:02X?}"
        );
    }
}

#[test]
fn spec_examples() {
    assert_eq!(
        &encoded(&Value::Float(1.23))[..],
        &[0xC1, 0x3F, 0xF3, 0xAE, 0x14, 0x7A, 0xE1, 0x47, 0xAE]
    );
    let m: Map = [("one".to_owned(), Value::from("eins"))]
        .into_iter()
        .collect();
    assert_eq!(
        &encoded(&Value::Map(m))[..],
        &[0xA1, 0x83, b'o', b'n', b'e', 0x84, b'e', b'i', b'n', b's']
    );
    assert_eq!(
        &encoded(&Value::from("abcdefghijklmnopqrstuvwxyz"))[..2],
        &[0xD0, 0x1A]
    );
    for form in [
        &[0x2A][..],
        &[0xC8, 0x2A],
        &[0xC9, 0, 0x2A],
        &[0xCA, 0, 0, 0, 0x2A],
        &[0xCB, 0, 0, 0, 0, 0, 0, 0, 0x2A],
    ] {
        assert_eq!(
            from_bytes(Bytes::copy_from_slice(form)).unwrap(),
            Value::Integer(42)
        );
    }
    // 1970-01-01T02:15:00.000000042+01:00: UTC seconds 4500, legacy local seconds 8100.
    let dt = Value::DateTime(DateTime {
        seconds: 4500,
        nanoseconds: 42,
        tz_offset_seconds: 3600,
    });
    let mut b = BytesMut::new();
    encode::value(&mut b, &dt, bolt::packstream::WireFormat::Legacy);
    assert_eq!(
        &b[..],
        &[0xB3, b'F', 0xC9, 0x1F, 0xA4, 42, 0xC9, 0x0E, 0x10]
    );
    assert_eq!(&encoded(&dt)[..2], &[0xB3, b'I']);
}
