//! The two arms of a comparison, by name.

/// The baseline and the canary of one comparison, by name, so that a swap is visible where the
/// call is written: every two-arm function of the crate takes its arms as one `Arms`, and the
/// direction of harm (the canary against the baseline) never depends on argument order.
///
/// Written in the call, `&Vec<f64>` fields coerce to the `&[f64]` the function takes; bound to a
/// variable first, the binding names the type: `let arms: Arms<&[f64]> = Arms { .. };`.
///
/// # Example
/// ```
/// use canary_verdict::stats::{ks_2samp, Alternative, Method};
/// use canary_verdict::Arms;
/// let (baseline, canary) = (vec![1.0, 2.0, 3.0, 4.0], vec![3.0, 4.0, 5.0, 6.0]);
/// let test = ks_2samp(
///     Arms {
///         baseline: &baseline,
///         canary: &canary,
///     },
///     Alternative::Greater,
///     Method::Exact,
/// )?;
/// assert!(test.statistic > 0.0);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Arms<T> {
    /// The baseline: the version running now.
    pub baseline: T,
    /// The canary: the new version being judged.
    pub canary: T,
}

impl<T> Arms<T> {
    /// Applies `f` to each arm, the baseline first.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Arms<U> {
        let baseline = f(self.baseline);
        Arms {
            baseline,
            canary: f(self.canary),
        }
    }

    /// Borrows both arms.
    pub fn as_ref(&self) -> Arms<&T> {
        Arms {
            baseline: &self.baseline,
            canary: &self.canary,
        }
    }
}
