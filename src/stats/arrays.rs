//! Conversions from ndarray views (feature `ndarray`), for callers who hold metrics in arrays.
//! The core works on slices; these copy a view only when it is not contiguous.

use ndarray::{ArrayView1, ArrayView2};
use std::borrow::Cow;

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::stats::rank_sum::TwoSample;

/// A view's elements as a slice, copied only when the view is not contiguous in standard order.
fn as_slice<'a>(view: &'a ArrayView1<'_, f64>) -> Cow<'a, [f64]> {
    match view.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(view.iter().copied().collect()),
    }
}

impl TwoSample {
    /// Builds a [`TwoSample`] from two one-dimensional views.
    ///
    /// # Errors
    /// As [`TwoSample::new`].
    ///
    /// # Example
    /// ```
    /// use canary_verdict::stats::TwoSample;
    /// use canary_verdict::Arms;
    /// use ndarray::array;
    /// let baseline = array![1.0, 2.0, 3.0];
    /// let canary = array![2.0, 3.0, 4.0, 5.0];
    /// let pair = TwoSample::from_views(Arms {
    ///     baseline: baseline.view(),
    ///     canary: canary.view(),
    /// })?;
    /// assert_eq!(pair.canary().len(), 4);
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn from_views(arms: Arms<ArrayView1<'_, f64>>) -> Result<Self> {
        let Arms { baseline, canary } = arms;
        TwoSample::new(Arms {
            baseline: &as_slice(&baseline),
            canary: &as_slice(&canary),
        })
    }

    /// One [`TwoSample`] per column of two matrices whose rows are observations and whose
    /// columns are metrics (the same metrics, in the same order, in both).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (field `columns`) when the column counts differ; otherwise as
    /// [`TwoSample::new`] for the first column that fails.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::stats::TwoSample;
    /// use canary_verdict::Arms;
    /// use ndarray::array;
    /// let baseline = array![[1.0, 10.0], [2.0, 11.0], [3.0, 12.0]];
    /// let canary = array![[1.5, 20.0], [2.5, 21.0]];
    /// let pairs = TwoSample::per_column(Arms {
    ///     baseline: baseline.view(),
    ///     canary: canary.view(),
    /// })?;
    /// assert_eq!(pairs.len(), 2);
    /// assert_eq!(pairs[1].canary(), &[20.0, 21.0]);
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn per_column(arms: Arms<ArrayView2<'_, f64>>) -> Result<Vec<TwoSample>> {
        let Arms { baseline, canary } = arms;
        if baseline.ncols() != canary.ncols() {
            return Err(Error::InvalidParameter {
                field: "columns",
                value: canary.ncols() as f64,
                expected: "as many canary columns as baseline columns",
            });
        }
        baseline
            .columns()
            .into_iter()
            .zip(canary.columns())
            .map(|(b, c)| {
                TwoSample::from_views(Arms {
                    baseline: b,
                    canary: c,
                })
            })
            .collect()
    }
}
