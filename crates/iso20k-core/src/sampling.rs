//! Audit sampling: how many records to test, and which, reproducibly.
//!
//! **Size.** For attribute sampling with zero expected deviations, a sample of `n` items with
//! no deviation supports the conclusion "the deviation rate is below the tolerable rate `t`" with
//! confidence `c` once `(1 - t)^n <= 1 - c`, so `n = ceil(ln(1 - c) / ln(1 - t))`: 22 for 90 %
//! and 10 %, 59 for 95 % and 5 %, 149 for 95 % and 2 %. A population smaller than that is tested
//! whole.
//!
//! **Draw.** The population's ids are sorted and de-duplicated, then shuffled by a partial
//! Fisher–Yates pass driven by SplitMix64 seeded with the sample's seed; the first `n` are the
//! sample, in draw order. Both algorithms are short and fully specified (SplitMix64 is Steele,
//! Lea and Flood's 2014 generator; bounded values use rejection, so every index is equally
//! likely), which is why they are written here rather than taken from a crate whose stream may
//! change between versions: the same population and seed must give the same items in any later
//! version, and an auditor can re-derive a draw with any language.

/// The smallest confidence accepted (below it a sample proves little).
pub const MIN_CONFIDENCE: f64 = 0.5;
/// The largest confidence accepted: 0.999 with the smallest rate gives 6,905 items.
pub const MAX_CONFIDENCE: f64 = 0.999;
/// The smallest tolerable deviation rate accepted.
pub const MIN_TDR: f64 = 0.001;
/// The largest tolerable deviation rate accepted.
pub const MAX_TDR: f64 = 0.5;
/// The largest sample drawn by size: more is not a sample.
pub const MAX_SIZE: usize = 10_000;

/// The statistical sample size for a confidence and a tolerable deviation rate (both as
/// fractions), with zero deviations expected.
pub fn statistical_size(confidence: f64, tdr: f64) -> Result<usize, String> {
    if !(MIN_CONFIDENCE..=MAX_CONFIDENCE).contains(&confidence) {
        return Err(format!(
            "the confidence must lie between {MIN_CONFIDENCE} and {MAX_CONFIDENCE} (a fraction: \
             0.95 for 95 %), not {confidence}"
        ));
    }
    if !(MIN_TDR..=MAX_TDR).contains(&tdr) {
        return Err(format!(
            "the tolerable deviation rate must lie between {MIN_TDR} and {MAX_TDR} (a fraction: \
             0.05 for 5 %), not {tdr}"
        ));
    }
    let exact = (1.0 - confidence).ln() / (1.0 - tdr).ln();
    // A ratio that is a whole number in exact arithmetic may come out a hair above it.
    Ok((exact - 1e-9).ceil() as usize)
}

/// SplitMix64: a 64-bit state advanced by a constant, each output a mix of the state.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound`, each equally likely: outputs in the incomplete last stretch of
    /// the 64-bit range are drawn again.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let r = self.next();
            if r < zone {
                return r % bound;
            }
        }
    }
}

/// Draws `size` ids from the population (the whole of it, when smaller), in draw order.
pub fn draw(population: &[String], size: usize, seed: u64) -> Vec<String> {
    let mut ids: Vec<&str> = population.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let size = size.min(ids.len());
    let mut rng = SplitMix64(seed);
    for i in 0..size {
        let j = i + rng.below((ids.len() - i) as u64) as usize;
        ids.swap(i, j);
    }
    ids.truncate(size);
    ids.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_zero_deviation_formula() {
        for (c, t, n) in [
            (0.90, 0.10, 22),
            (0.95, 0.05, 59),
            (0.95, 0.02, 149),
            (0.99, 0.05, 90),
            (0.75, 0.5, 2),
        ] {
            assert_eq!(statistical_size(c, t), Ok(n), "{c} / {t}");
        }
        assert!(
            statistical_size(95.0, 0.05)
                .unwrap_err()
                .contains("0.95 for 95 %")
        );
        assert!(statistical_size(0.95, 0.0).is_err());
        assert!(statistical_size(f64::NAN, 0.05).is_err());
        assert_eq!(statistical_size(MAX_CONFIDENCE, MIN_TDR), Ok(6905));
    }

    #[test]
    fn splitmix_matches_the_published_sequence() {
        // Seed 1234567's first outputs, as the reference C code (and Java's SplittableRandom) give.
        let mut r = SplitMix64(1234567);
        let got: Vec<u64> = (0..3).map(|_| r.next()).collect();
        assert_eq!(
            got,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn a_draw_is_reproducible_and_ignores_the_populations_order() {
        let pop: Vec<String> = (0..500).map(|i| format!("CHG{i:04}")).collect();
        let a = draw(&pop, 59, 42);
        assert_eq!(a.len(), 59);
        let mut reversed = pop.clone();
        reversed.reverse();
        reversed.push("CHG0007".into());
        assert_eq!(draw(&reversed, 59, 42), a);
        assert_ne!(draw(&pop, 59, 43), a);
        let mut unique = a.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 59);
        assert_eq!(
            draw(&pop[..10], 59, 42).len(),
            10,
            "small populations are taken whole"
        );
        assert!(draw(&[], 5, 1).is_empty());
    }

    #[test]
    fn every_item_is_equally_likely() {
        let pop: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let mut seen = [0u32; 10];
        for seed in 0..20_000 {
            for id in draw(&pop, 3, seed) {
                seen[id.parse::<usize>().unwrap()] += 1;
            }
        }
        // 6,000 draws each expected; a fair draw stays well within 5 %.
        assert!(
            seen.iter().all(|&n| (5_700..=6_300).contains(&n)),
            "{seen:?}"
        );
    }
}
