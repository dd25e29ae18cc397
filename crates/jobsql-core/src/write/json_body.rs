//! The `@@json` text of an EXEC, parsed strictly: a JSON object in which no object (at any
//! depth) has a key twice. Plain JSON parsers keep the last of two equal keys and drop the
//! first without a word; a body that says two things is refused instead.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The object `text` holds, or why it is not one (a duplicate key is named, with its place).
pub fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Strict>(text) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err("@@json is not a JSON object ({\"key\": value, ...})".into()),
        Err(e) => Err(format!("@@json is not a JSON object: {e}")),
    }
}

/// A JSON value whose objects have distinct keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut object = Map::new();
        while let Some((key, Strict(value))) = map.next_entry::<String, Strict>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "key \"{key}\" is given twice (which one was meant?)"
                )));
            }
            object.insert(key, value);
        }
        Ok(Strict(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_parse_and_duplicates_are_named_at_any_depth() {
        let map =
            parse_object(r#"{"run_id": 1, "x": {"a": [1, 2.5, null, true]}}"#).expect("an object");
        assert_eq!(map["run_id"], Value::from(1));
        assert_eq!(map["x"]["a"][1], Value::from(2.5));
        for (text, expected) in [
            (
                r#"{"run_id": 1, "run_id": 2}"#,
                "key \"run_id\" is given twice",
            ),
            (r#"{"x": {"a": 1, "a": 1}}"#, "key \"a\" is given twice"),
            ("[1]", "@@json is not a JSON object ({"),
            ("{", "@@json is not a JSON object: EOF"),
        ] {
            let e = parse_object(text).expect_err(text);
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}
