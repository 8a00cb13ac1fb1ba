//! Serde helpers for numbers that may be infinite or NaN (one-sided interval ends, a rate ratio
//! from a zero baseline): JSON has no such numbers, so they travel as the strings `"inf"`,
//! `"-inf"` and `"NaN"`, and finite values as plain numbers. Both forms are read back.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

fn write<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(v)
    } else if v.is_nan() {
        s.serialize_str("NaN")
    } else if v > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or \"inf\", \"-inf\" or \"NaN\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "inf" | "Inf" | "+inf" | "Infinity" => Ok(f64::INFINITY),
            "-inf" | "-Inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
            "NaN" | "nan" => Ok(f64::NAN),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }
}

/// `#[serde(with = "crate::serde_float")]` for an `f64` field.
pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    write(*v, s)
}

/// See [`serialize`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(FloatVisitor)
}

/// The same for an `Option<f64>` field.
pub(crate) mod option {
    use super::*;

    /// Writes `None` as null.
    pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => write(*v, s),
            None => s.serialize_none(),
        }
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<f64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null, a number, or \"inf\", \"-inf\" or \"NaN\"")
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<f64>, D::Error> {
            d.deserialize_any(FloatVisitor).map(Some)
        }
    }

    /// Reads null as `None`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }
}

/// The same for a `Vec<f64>` field (histogram bounds end in `+inf`).
pub(crate) mod vec {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Float(#[serde(with = "crate::serde_float")] f64);

    /// Writes each value as [`serialize`](super::serialize) does.
    pub(crate) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&Float(*x))?;
        }
        seq.end()
    }

    /// Reads numbers or the non-finite strings.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v: Vec<Float> = serde::Deserialize::deserialize(d)?;
        Ok(v.into_iter().map(|f| f.0).collect())
    }
}

/// The same for a `Vec<(f64, f64)>` field (a summary's `(p, quantile)` pairs: a histogram's
/// quantile beyond its last finite bound is `+inf`).
pub(crate) mod pairs {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Pair(
        #[serde(with = "crate::serde_float")] f64,
        #[serde(with = "crate::serde_float")] f64,
    );

    /// Writes each pair as a two-element array, each value as [`serialize`](super::serialize).
    pub(crate) fn serialize<S: Serializer>(v: &[(f64, f64)], s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &(p, q) in v {
            seq.serialize_element(&Pair(p, q))?;
        }
        seq.end()
    }

    /// Reads pairs of numbers or the non-finite strings.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(f64, f64)>, D::Error> {
        let v: Vec<Pair> = serde::Deserialize::deserialize(d)?;
        Ok(v.into_iter().map(|p| (p.0, p.1)).collect())
    }
}
