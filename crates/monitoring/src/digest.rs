//! Content digests: what gen records of the files it leaves and the inputs it
//! read, so a later run can tell an untouched folder from a changed one
//! without rendering again (the xtask's `record`). XXH3's 128 bits: not a
//! defence against someone forging a collision, but no accidental edit goes
//! unseen, at memory speed (the xtask's own binary is one of the inputs).

use std::fmt;
use std::io::Read;
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

/// A 128-bit digest, shown and parsed as 32 hex digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(u128);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl std::str::FromStr for Digest {
    type Err = ();
    fn from_str(s: &str) -> Result<Digest, ()> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        u128::from_str_radix(s, 16).map(Digest).map_err(|_| ())
    }
}

/// A digest being computed over parts, each framed by its length so that
/// ("ab", "c") and ("a", "bc") differ.
#[derive(Default)]
pub struct Digester(Xxh3);

impl Digester {
    pub fn part(&mut self, bytes: &[u8]) -> &mut Digester {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// A file's bytes as one part, read a piece at a time (a binary of tens
    /// of megabytes is never held whole).
    pub fn file(&mut self, path: &Path) -> std::io::Result<&mut Digester> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        self.0.update(&len.to_le_bytes());
        let mut buf = vec![0; 1 << 16];
        let mut read = 0;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.0.update(&buf[..n]);
            read += n as u64;
        }
        if read != len {
            return Err(std::io::Error::other("the file changed while it was read"));
        }
        Ok(self)
    }

    pub fn finish(&self) -> Digest {
        Digest(self.0.digest128())
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

    #[test]
    fn a_file_digests_as_its_bytes() {
        let path = std::env::temp_dir().join(format!("digest-{}", std::process::id()));
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let from_file = Digester::default().file(&path).unwrap().finish();
        let _ = std::fs::remove_file(&path);
        assert_eq!(from_file, of(&bytes));
    }
}
