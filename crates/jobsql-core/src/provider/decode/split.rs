//! The page splitter: one serde_json pass over a listing page that finds its objects (the
//! array at the method's `response.objects` path) and what it says about the next page (the
//! strings and numbers at `pagination.next` / `total`), borrowing each object's bytes as a
//! `RawValue`.
//!
//! The paths are laid out once per scan as a tree of fields ([`Layout`]); the pass follows only
//! those keys and skips every other value with serde_json's own (validating, non-recursive)
//! skipper, so a page's bytes are read once here, then once more by arrow-json's tape decoder
//! for the objects alone. Nothing is built into `serde_json::Value`s and no key is allocated.
//!
//! The answers are those of the step-by-step functions of `shape.rs` (which remain for the
//! body-as-one-object case and for layouts that do not form a tree: a path that is a prefix of
//! another): a field absent or null on the way is "none", a value of the wrong kind on the way
//! is an error naming its path, and a body that is not JSON is "not JSON". Of a key given
//! twice the last wins, as in a map.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::request::PageMarks;

/// What a page holds at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The array of objects.
    Objects,
    /// The next page's token, marker or URL (a string).
    Next,
    /// The total count (a number).
    Total,
}

/// One field of the tree: what is wanted at it, or the fields wanted below it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    /// The path to here, for messages (empty: the body).
    path: Vec<String>,
    want: Option<Want>,
    children: Vec<(String, Node)>,
}

/// Where the objects and the next page's marks are in a page, as a tree of fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    root: Node,
}

/// What one pass found.
#[derive(Debug, Default)]
struct Found<'a> {
    objects: Vec<&'a RawValue>,
    picked: Picked<'a>,
    marks: PageMarks,
}

/// Some fields of each object of a page, picked out in the splitting pass.
#[derive(Debug, Default)]
pub(super) struct Picked<'a> {
    /// How many objects the page holds.
    pub objects: usize,
    /// `(object, name, value)`: the value of the `name`-th picked field in the `object`-th
    /// object, in page order (a field given twice in an object is there twice).
    pub values: Vec<(usize, usize, &'a RawValue)>,
}

/// Why a value did not fit, set before it is read: the error's text then starts with it.
#[derive(Debug, Clone)]
struct Context {
    text: String,
    /// Whether serde_json's own words follow (`: invalid type: ...`).
    detail: bool,
}

impl Layout {
    /// The layout of objects at `objects` (no fields: the body is the array) and the marks at
    /// `next` and `total`; `None` when the paths do not form a tree (one is a prefix of
    /// another, or two are the same), which the step-by-step functions then answer.
    pub(super) fn new(
        objects: &[String],
        next: Option<&[String]>,
        total: Option<&[String]>,
    ) -> Option<Self> {
        let mut root = Node {
            path: Vec::new(),
            want: None,
            children: Vec::new(),
        };
        let wants = [
            (Some(objects), Want::Objects),
            (next, Want::Next),
            (total, Want::Total),
        ];
        for (path, want) in wants {
            if let Some(path) = path {
                root.insert(path, want)?;
            }
        }
        Some(Self { root })
    }

    /// Split `body`: its objects (borrowed) and what it says about the next page.
    pub(super) fn split<'a>(
        &self,
        body: &'a [u8],
    ) -> Result<(Vec<&'a RawValue>, PageMarks), String> {
        let found = self.pass(body, None)?;
        Ok((found.objects, found.marks))
    }

    /// Split `body` picking out the top-level fields `names` of each object (nothing else of
    /// the objects is kept), and what it says about the next page. An element of the array
    /// that is not an object is an error.
    pub(super) fn pick<'a>(
        &self,
        body: &'a [u8],
        names: &[String],
    ) -> Result<(Picked<'a>, PageMarks), String> {
        let found = self.pass(body, Some(names))?;
        Ok((found.picked, found.marks))
    }

    fn pass<'a>(&self, body: &'a [u8], pick: Option<&[String]>) -> Result<Found<'a>, String> {
        let mut found = Found::default();
        let mut context = None;
        let mut de = serde_json::Deserializer::from_slice(body);
        let seed = NodeSeed {
            node: &self.root,
            pick,
            found: &mut found,
            context: &mut context,
        };
        seed.deserialize(&mut de)
            .and_then(|()| de.end())
            .map_err(|e| match context {
                Some(c) if e.is_data() => match c.detail {
                    true => format!("{}: {e}", c.text),
                    false => c.text,
                },
                _ => format!("not JSON: {e}"),
            })?;
        Ok(found)
    }
}

impl Node {
    /// Add `want` at `path` below this node; `None` when that breaks the tree.
    fn insert(&mut self, path: &[String], want: Want) -> Option<()> {
        let Some((first, rest)) = path.split_first() else {
            if self.want.is_some() || !self.children.is_empty() {
                return None;
            }
            self.want = Some(want);
            return Some(());
        };
        if self.want.is_some() {
            return None;
        }
        let child = match self.children.iter().position(|(k, _)| k == first) {
            Some(i) => &mut self.children[i].1,
            None => {
                let mut path = self.path.clone();
                path.push(first.clone());
                self.children.push((
                    first.clone(),
                    Node {
                        path,
                        want: None,
                        children: Vec::new(),
                    },
                ));
                &mut self.children.last_mut()?.1
            }
        };
        child.insert(rest, want)
    }

    /// The path in words: `` `a.b` ``, or "the body".
    fn name(&self) -> String {
        match self.path.is_empty() {
            true => "the body".to_string(),
            false => format!("`{}`", self.path.join(".")),
        }
    }

    /// Forget what was found below here (a key given again replaces its whole value).
    fn clear(&self, found: &mut Found) {
        match self.want {
            Some(Want::Objects) => {
                found.objects.clear();
                found.picked = Picked::default();
            }
            Some(Want::Next) => found.marks.next = None,
            Some(Want::Total) => found.marks.total = None,
            None => self.children.iter().for_each(|(_, c)| c.clear(found)),
        }
    }
}

/// Reads the value at one node: what it wants, or the map holding its children.
struct NodeSeed<'n, 'f, 'a> {
    node: &'n Node,
    /// The fields to pick out of each object (else each object is kept whole).
    pick: Option<&'n [String]>,
    found: &'f mut Found<'a>,
    context: &'f mut Option<Context>,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let node = self.node;
        let set = |context: &mut Option<Context>, text: String, detail: bool| {
            *context = Some(Context { text, detail });
        };
        match node.want {
            Some(Want::Objects) => {
                set(
                    self.context,
                    format!("{} is not an array of objects", node.name()),
                    true,
                );
                match self.pick {
                    None => {
                        let objects: Option<Vec<&'de RawValue>> = de::Deserialize::deserialize(d)?;
                        self.found.objects = objects.unwrap_or_default();
                    }
                    Some(names) => {
                        self.found.picked = Picked::default();
                        d.deserialize_option(PickArray {
                            names,
                            picked: &mut self.found.picked,
                        })?;
                    }
                }
            }
            Some(Want::Next) => {
                set(
                    self.context,
                    format!("{} is not a string", node.name()),
                    false,
                );
                let next: Option<String> = de::Deserialize::deserialize(d)?;
                self.found.marks.next = next.filter(|v| !v.is_empty());
            }
            Some(Want::Total) => {
                set(
                    self.context,
                    format!("{} is not a count of objects", node.name()),
                    false,
                );
                self.found.marks.total = de::Deserialize::deserialize(d)?;
            }
            None => {
                node.clear(self.found);
                set(
                    self.context,
                    format!("{} is not a JSON object", node.name()),
                    true,
                );
                d.deserialize_any(self)?;
            }
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(()) // null on the way: nothing below
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let children = &self.node.children;
        while let Some(i) = map.next_key_seed(KeySeed(children))? {
            match i {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(i) => map.next_value_seed(NodeSeed {
                    node: &children[i].1,
                    pick: self.pick,
                    found: &mut *self.found,
                    context: &mut *self.context,
                })?,
            }
        }
        Ok(())
    }
}

/// Reads the array of objects (or null: none), picking fields out of each object.
struct PickArray<'n, 'f, 'a> {
    names: &'n [String],
    picked: &'f mut Picked<'a>,
}

impl<'de> Visitor<'de> for PickArray<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (names, picked) = (self.names, self.picked);
        while seq
            .next_element_seed(PickObject {
                names,
                picked: &mut *picked,
            })?
            .is_some()
        {
            picked.objects += 1;
        }
        Ok(())
    }
}

/// Reads one object, keeping the values of the picked fields.
struct PickObject<'n, 'f, 'a> {
    names: &'n [String],
    picked: &'f mut Picked<'a>,
}

impl<'de> DeserializeSeed<'de> for PickObject<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PickObject<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let object = self.picked.objects;
        while let Some(name) = map.next_key_seed(NameSeed(self.names))? {
            match name {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(name) => {
                    let value: &'de RawValue = map.next_value()?;
                    self.picked.values.push((object, name, value));
                }
            }
        }
        Ok(())
    }
}

/// Reads a key: the index of the name it is, if any.
struct NameSeed<'n>(&'n [String]);

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|k| k == key))
    }
}

/// Reads a key: the index of the child it names, if any (compared in place, not allocated).
struct KeySeed<'n>(&'n [(String, Node)]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|(k, _)| k == key))
    }
}

#[cfg(test)]
mod tests;
