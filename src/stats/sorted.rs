//! Sorted copies of checked samples: every rank statistic sorts once and reuses the result.

/// Maps a finite f64 to a u64 whose unsigned order is the numeric order (`-0.0` is folded into
/// `+0.0` first, so the two compare equal as they do in IEEE arithmetic).
#[inline]
pub(crate) fn key(v: f64) -> u64 {
    let b = (v + 0.0).to_bits();
    b ^ ((((b as i64) >> 63) as u64) | (1 << 63))
}

/// Inverse of [`key`].
#[inline]
pub(crate) fn unkey(k: u64) -> f64 {
    let b = if k >> 63 == 1 { k ^ (1 << 63) } else { !k };
    f64::from_bits(b)
}

/// Sorts finite values ascending. Sorting integer keys is measurably faster than comparing floats
/// with `total_cmp`, and the keys fold `-0.0` into `+0.0`.
pub(crate) fn sort_finite(values: &mut [f64]) {
    let mut keys: Vec<u64> = values.iter().map(|&v| key(v)).collect();
    keys.sort_unstable();
    for (v, k) in values.iter_mut().zip(keys) {
        *v = unkey(k);
    }
}

/// A sorted copy of an already checked (finite) sample, with capacity for `spare` more values:
/// the keys are built, sorted and mapped back in one buffer.
pub(crate) fn sorted_copy_of_checked(sample: &[f64], spare: usize) -> Vec<f64> {
    let mut keys = Vec::with_capacity(sample.len() + spare);
    keys.extend(sample.iter().map(|&v| key(v)));
    keys.sort_unstable();
    // Same size and alignment: collected in place, capacity kept.
    keys.into_iter().map(unkey).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_like_numbers_and_round_trip() {
        let vals = [-1e300, -2.5, -1e-310, -0.0, 0.0, 1e-310, 3.0, 1e300];
        for w in vals.windows(2) {
            assert!(key(w[0]) <= key(w[1]), "{} {}", w[0], w[1]);
        }
        assert_eq!(key(-0.0), key(0.0));
        for v in vals {
            assert_eq!(unkey(key(v)), v + 0.0);
        }
        let mut s = vec![3.0, -1.0, 2.0, -0.0, 0.0];
        sort_finite(&mut s);
        assert_eq!(s, vec![-1.0, 0.0, 0.0, 2.0, 3.0]);
    }
}
