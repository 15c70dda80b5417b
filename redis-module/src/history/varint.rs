//! The byte-level pieces both chunk encodings use: LEB128 varints, zigzag for signed values,
//! and a reader whose every read is checked, so corrupt bytes are an error, never a panic.

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Bytes read front to back.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.pos).ok_or("history chunk ends early")?;
        self.pos += 1;
        Ok(b)
    }

    pub fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("history varint too long".into())
    }

    pub fn signed(&mut self) -> Result<i64, String> {
        Ok(unzigzag(self.varint()?))
    }

    /// The next `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|e| *e <= self.bytes.len())
            .ok_or("history chunk ends early")?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// A varint length, then that many bytes.
    pub fn section(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "history: section too long")?;
        self.take(len)
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// Appends `section` behind its length (what `Reader::section` reads).
pub fn put_section(out: &mut Vec<u8>, section: &[u8]) {
    put_varint(out, section.len() as u64);
    out.extend_from_slice(section);
}
