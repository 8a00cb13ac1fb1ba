use canary_verdict::*;
use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let mut s = 1u64;
    let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64<<53) as f64 };
    let b: Vec<f64> = (0..n).map(|_| 100.0 * (next()*2.0).exp()).collect();
    let c: Vec<f64> = (0..n).map(|_| 105.0 * (next()*2.0).exp()).collect();
    let t = Instant::now(); let p = TwoSample::new(&b, &c).unwrap(); println!("new {:?}", t.elapsed());
    let t = Instant::now(); let _ = p.mann_whitney(&MannWhitneyConfig::default()).unwrap(); println!("mw {:?}", t.elapsed());
    let t = Instant::now(); let _ = p.hodges_lehmann_estimate(); println!("est {:?}", t.elapsed());
    let t = Instant::now(); let _ = p.pairwise_difference((n*n/3) as u64); println!("kth {:?}", t.elapsed());
    let t = Instant::now(); let h = p.hodges_lehmann(&HodgesLehmannConfig{conf_level:0.98, ..Default::default()}).unwrap(); println!("hl {:?} {h}", t.elapsed());
}
