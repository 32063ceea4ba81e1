//! Randomness comes from outside: the extension passes `crypto.getRandomValues`, the tests a
//! seeded generator, so every run of the core can be replayed.

/// A source of uniformly random 64-bit values.
pub trait RandomSource {
    fn next_u64(&mut self) -> u64;
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// `prefix` + 128 random bits as 32 lowercase hex digits.
pub(crate) fn random_hex_id(prefix: &str, random: &mut impl RandomSource) -> String {
    let high = random.next_u64();
    let low = random.next_u64();
    format!("{prefix}{high:016x}{low:016x}")
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
