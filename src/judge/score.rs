//! Scoring: Kayenta's weighted sum of group pass rates, minus its quirks.
//!
//! `score = Σ_g w_g · s_g / Σ_g w_g` over the groups with at least one counted metric, where
//! `s_g = 100 · passed_g / counted_g`. Counted labels are Pass, High, Low, NoDataFail and Error
//! (Kayenta leaves errors out; here a metric that cannot be judged is a failure). A group with
//! nothing counted is left out and its weight shared by the others, where Kayenta scores it 100.
//! Without configured weights every group weighs the same. A group listed twice in one metric's
//! `groups` counts that metric once: the list names the groups it belongs to, not weights.

use std::collections::{BTreeMap, BTreeSet};

use crate::judge::classify::{Classification, MetricJudgment};
use crate::policy::CanaryPolicy;

/// One group's score.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GroupScore {
    /// The group's name.
    pub name: String,
    /// Its weight as configured (or 1 when no weights are configured).
    pub weight: f64,
    /// Metrics counted in it.
    pub counted: usize,
    /// Metrics that passed.
    pub passed: usize,
    /// `100 · passed / counted`; `None` when nothing was counted.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub score: Option<f64>,
}

/// Group scores and the overall score (`None` when no group counted anything).
pub(crate) fn score(
    policy: &CanaryPolicy,
    metrics: &[MetricJudgment],
) -> (Vec<GroupScore>, Option<f64>) {
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (mp, mj) in policy.metrics.iter().zip(metrics) {
        // Deduplicated: a metric counts once in each group it names, however often.
        let names: BTreeSet<String> = mp.group_names().into_iter().collect();
        for g in names {
            let entry = groups.entry(g).or_default();
            if mj.is_counted() {
                entry.0 += 1;
                if mj.classification == Classification::Pass {
                    entry.1 += 1;
                }
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    let (mut sum, mut weights) = (0.0, 0.0);
    for (name, (counted, passed)) in groups {
        let weight = if policy.group_weights.is_empty() {
            1.0
        } else {
            policy.group_weights.get(&name).copied().unwrap_or(0.0)
        };
        let score = (counted > 0).then(|| 100.0 * passed as f64 / counted as f64);
        if let Some(s) = score {
            sum += weight * s;
            weights += weight;
        }
        out.push(GroupScore {
            name,
            weight,
            counted,
            passed,
            score,
        });
    }
    let total = (weights > 0.0).then(|| sum / weights);
    (out, total)
}
