//! The fields of each frontend message, checked as its body streams past, before pgwire
//! decodes it.
//!
//! pgwire's decoders read the fields a message should have without looking at how many bytes
//! it has: a `Parse` whose body stops before its parameter count, a `Bind` whose parameter
//! claims more bytes than follow, or an `Execute` without its row limit made the `bytes` crate
//! panic in the connection's task. [`BodyCheck`] follows the body of each message type the
//! server decodes — the fields of the Postgres protocol: C strings, fixed-size numbers,
//! counted lists, length-prefixed values — as its bytes are read, without holding them, and
//! says whether the fields fit in the length the message declares. [`super::frames`] withholds
//! the last bytes of a message that does not fit (pgwire never sees it whole) and refuses it.
//!
//! Bytes after the last field are left to pgwire (it ignores them); a message type the server
//! does not decode has nothing to check (pgwire refuses it by its type byte).

/// One field of a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Bytes up to a NUL, which ends it.
    CStr,
    /// Exactly this many bytes (a byte, an `Int16`, an `Int32`).
    Fixed(u32),
    /// An `Int16` count, then that many elements.
    Counted(Element),
}

/// An element of a counted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    /// Exactly this many bytes.
    Fixed(u32),
    /// An `Int32` length (`-1`: NULL, no bytes), then that many bytes.
    Sized,
}

use Field::{CStr, Counted, Fixed};

/// `Parse`: statement name, query, parameter type OIDs.
const PARSE: &[Field] = &[CStr, CStr, Counted(Element::Fixed(4))];
/// `Bind`: portal, statement, parameter formats, parameter values, result formats.
const BIND: &[Field] = &[
    CStr,
    CStr,
    Counted(Element::Fixed(2)),
    Counted(Element::Sized),
    Counted(Element::Fixed(2)),
];
/// `Describe` and `Close`: `S` or `P`, a name.
const TARGET: &[Field] = &[Fixed(1), CStr];
/// `Execute`: portal, row limit.
const EXECUTE: &[Field] = &[CStr, Fixed(4)];
/// `Query`, `CopyFail`: a string.
const STRING: &[Field] = &[CStr];

/// The fields of a message of type `t` pgwire reads (none to check for the others).
fn fields_of(t: u8) -> &'static [Field] {
    match t {
        b'P' => PARSE,
        b'B' => BIND,
        b'D' | b'C' => TARGET,
        b'E' => EXECUTE,
        b'Q' | b'f' => STRING,
        _ => &[],
    }
}

/// Where in the fields the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between fields (or elements).
    Next,
    /// In a C string.
    CStr,
    /// Bytes left of a fixed field, element or value.
    Skip(u64),
    /// A number being read (a count, or a value's length).
    Number { value: [u8; 4], have: u8, need: u8 },
}

/// The check of one message body as it streams (see the module documentation).
#[derive(Debug, Clone)]
pub struct BodyCheck {
    fields: &'static [Field],
    field: usize,
    /// Within a counted field: the elements still to come, and their shape.
    elements: Option<(u32, Element)>,
    phase: Phase,
}

impl BodyCheck {
    /// The check of a message of type `t`.
    pub fn new(t: u8) -> Self {
        BodyCheck {
            fields: fields_of(t),
            field: 0,
            elements: None,
            phase: Phase::Next,
        }
    }

    /// Follow the next `bytes` of the body; an error as soon as one is certain.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), &'static str> {
        let mut at = 0;
        loop {
            match self.phase {
                Phase::Next => {
                    if let Some((left, element)) = self.elements {
                        if left == 0 {
                            self.elements = None;
                            self.field += 1;
                            continue;
                        }
                        self.elements = Some((left - 1, element));
                        self.phase = match element {
                            Element::Fixed(n) => Phase::Skip(n.into()),
                            Element::Sized => number(4),
                        };
                        continue;
                    }
                    self.phase = match self.fields.get(self.field) {
                        // All fields read: what follows is pgwire's to ignore.
                        None => return Ok(()),
                        Some(CStr) => Phase::CStr,
                        Some(Fixed(n)) => Phase::Skip((*n).into()),
                        Some(Counted(_)) => number(2),
                    };
                }
                Phase::CStr => match memchr::memchr(0, &bytes[at..]) {
                    Some(nul) => {
                        at += nul + 1;
                        self.field += 1;
                        self.phase = Phase::Next;
                    }
                    None => return Ok(()),
                },
                Phase::Skip(0) => self.item_done(),
                Phase::Skip(n) => {
                    if at == bytes.len() {
                        return Ok(());
                    }
                    let take = n.min((bytes.len() - at) as u64);
                    // At most the bytes left, a usize.
                    at += take as usize;
                    self.phase = Phase::Skip(n - take);
                }
                Phase::Number {
                    mut value,
                    mut have,
                    need,
                } => {
                    while have < need && at < bytes.len() {
                        value[usize::from(have)] = bytes[at];
                        have += 1;
                        at += 1;
                    }
                    if have < need {
                        self.phase = Phase::Number { value, have, need };
                        return Ok(());
                    }
                    self.number_read(value, need)?;
                }
            }
        }
    }

    fn item_done(&mut self) {
        if self.elements.is_none() {
            self.field += 1;
        }
        self.phase = Phase::Next;
    }

    fn number_read(&mut self, value: [u8; 4], need: u8) -> Result<(), &'static str> {
        if need == 2 {
            // A count: its elements follow.
            let count = u16::from_be_bytes([value[0], value[1]]);
            let Some(Counted(element)) = self.fields.get(self.field) else {
                return Err("its fields are out of order");
            };
            self.elements = Some((count.into(), *element));
            self.phase = Phase::Next;
            return Ok(());
        }
        match i32::from_be_bytes(value) {
            -1 => self.item_done(),
            n if n < -1 => return Err("a value of negative length"),
            // Not negative here.
            n => self.phase = Phase::Skip(n.unsigned_abs().into()),
        }
        Ok(())
    }

    /// The body has ended: whether every field was in it.
    pub fn finish(&mut self) -> Result<(), &'static str> {
        self.feed(&[])?;
        let done =
            self.phase == Phase::Next && self.elements.is_none() && self.field >= self.fields.len();
        if done {
            Ok(())
        } else {
            Err("its fields do not fit in the length it declares")
        }
    }
}

fn number(need: u8) -> Phase {
    Phase::Number {
        value: [0; 4],
        have: 0,
        need,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: u8, body: &[u8]) -> Result<(), &'static str> {
        let mut c = BodyCheck::new(t);
        c.feed(body)?;
        c.finish()
    }

    fn bind(params: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = b"portal\0stmt\0".to_vec();
        b.extend_from_slice(&1u16.to_be_bytes());
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&(params.len() as u16).to_be_bytes());
        for p in params {
            match p {
                Some(v) => {
                    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    b.extend_from_slice(v);
                }
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        b.extend_from_slice(&0u16.to_be_bytes());
        b
    }

    #[test]
    fn well_formed_messages_pass_and_short_ones_do_not() {
        let mut parse = b"s1\0SELECT $1\0".to_vec();
        parse.extend_from_slice(&1u16.to_be_bytes());
        parse.extend_from_slice(&20u32.to_be_bytes());
        assert_eq!(check(b'P', &parse), Ok(()));
        let full = bind(&[Some(b"42"), None, Some(b"")]);
        assert_eq!(check(b'B', &full), Ok(()));
        assert_eq!(check(b'E', b"\0\0\0\0\0"), Ok(()));
        assert_eq!(check(b'D', b"Sname\0"), Ok(()));
        assert_eq!(check(b'Q', b"SELECT 1\0"), Ok(()));
        assert_eq!(check(b'S', b""), Ok(()));
        // Every prefix of a well-formed Parse or Bind is refused.
        for (t, body) in [(b'P', &parse), (b'B', &full)] {
            for cut in 0..body.len() {
                assert!(check(t, &body[..cut]).is_err(), "{t} cut at {cut}");
            }
        }
        assert_eq!(
            check(b'P', b""),
            Err("its fields do not fit in the length it declares")
        );
        let mut lying = b"p\0s\0\0\0".to_vec();
        lying.extend_from_slice(&1u16.to_be_bytes());
        lying.extend_from_slice(&(-7i32).to_be_bytes());
        assert_eq!(check(b'B', &lying), Err("a value of negative length"));
    }

    #[test]
    fn the_cut_into_reads_does_not_matter() {
        let full = bind(&[Some(b"abc"), None, Some(&[7u8; 300])]);
        for cut in 0..full.len() {
            let mut c = BodyCheck::new(b'B');
            c.feed(&full[..cut]).expect("so far");
            c.feed(&full[cut..]).expect("the rest");
            assert_eq!(c.finish(), Ok(()), "cut at {cut}");
        }
    }
}
