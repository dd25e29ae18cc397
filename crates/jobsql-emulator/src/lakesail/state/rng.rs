//! The only source of randomness of the LakeSail emulator: a splitmix64 generator seeded from
//! `--seed`, so the same seed gives the same jobs, runs and ids.

/// A deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

/// The splitmix64 finaliser: a well-mixed hash of `z`.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The characters of ids: uppercase letters and digits.
const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

impl Rng {
    /// A generator for `seed` and a `stream` (different streams give unrelated sequences).
    pub fn new(seed: u64, stream: u64) -> Rng {
        Rng(mix(seed ^ mix(stream ^ 0x1a4e_5a11)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A uniform number in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An id: `prefix` then uppercase alphanumerics, `len` characters in all.
    pub fn id(&mut self, prefix: char, len: usize) -> String {
        let mut s = String::with_capacity(len);
        s.push(prefix);
        while s.len() < len {
            s.push(ID_CHARS[self.below(ID_CHARS.len() as u64) as usize] as char);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_ids_and_ids_are_uppercase_alphanumerics() {
        let a: Vec<String> = (0..5).map(|_| Rng::new(7, 1).id('R', 10)).collect();
        let mut r = Rng::new(7, 1);
        let b: Vec<String> = (0..5).map(|_| r.id('R', 10)).collect();
        assert_eq!(a[0], b[0]);
        assert_ne!(b[0], b[1]);
        for id in &b {
            assert_eq!(id.len(), 10);
            assert!(id
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        }
        assert_ne!(Rng::new(8, 1).id('R', 10), b[0]);
    }
}
