//! Content digests: what gen records of the files it leaves and the inputs it
//! read, so a later run can tell an untouched folder from a changed one
//! without rendering again (the xtask's `record`). 128 bits from two keyed
//! SipHash-2-4 streams, std's only keyed hash: not a defence against someone
//! forging a collision, but no accidental edit goes unseen.

// `SipHasher` is deprecated only in favour of `DefaultHasher`, which takes no key.
#![allow(deprecated)]

use std::fmt;
use std::hash::{Hasher, SipHasher};

/// A 128-bit digest, shown and parsed as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(u64, u64);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:016x}", self.0, self.1)
    }
}

impl std::str::FromStr for Digest {
    type Err = ();
    fn from_str(s: &str) -> Result<Digest, ()> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        let half = |h: &str| u64::from_str_radix(h, 16).map_err(|_| ());
        Ok(Digest(half(&s[..16])?, half(&s[16..])?))
    }
}

/// A digest being computed over parts, each framed by its length so that
/// ("ab", "c") and ("a", "bc") differ.
pub struct Digester(SipHasher, SipHasher);

impl Default for Digester {
    fn default() -> Digester {
        Digester(
            SipHasher::new_with_keys(0x6d6f_6e69_746f_7269, 0x6e67_2d72_6563_6f72),
            SipHasher::new_with_keys(0x7874_6173_6b2d_6765, 0x6e2d_6469_6765_7374),
        )
    }
}

impl Digester {
    pub fn part(&mut self, bytes: &[u8]) -> &mut Digester {
        for h in [&mut self.0, &mut self.1] {
            h.write(&(bytes.len() as u64).to_le_bytes());
            h.write(bytes);
        }
        self
    }

    pub fn finish(&self) -> Digest {
        Digest(self.0.finish(), self.1.finish())
    }
}

/// The digest of one file's bytes.
pub fn of(bytes: &[u8]) -> Digest {
    Digester::default().part(bytes).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_and_digests_round_trip() {
        let ab_c = Digester::default().part(b"ab").part(b"c").finish();
        let a_bc = Digester::default().part(b"a").part(b"bc").finish();
        assert_ne!(ab_c, a_bc);
        assert_ne!(of(b"x"), of(b"y"));
        assert_eq!(of(b"x"), of(b"x"));
        let d = of(b"generated");
        assert_eq!(d.to_string().parse::<Digest>(), Ok(d));
        assert_eq!("xyz".parse::<Digest>(), Err(()));
    }
}
