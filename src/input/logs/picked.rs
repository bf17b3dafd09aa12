//! One JSON Lines record read for the columns a run wants only: other keys are skipped without
//! building their values (production logs often carry whole prompts and answers).
//!
//! Owns that selective read. It must not type the values (see `cells`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;

/// Reads an object into one slot per wanted column (the last value of a repeated key wins, as
/// in serde_json's own maps).
pub(super) struct Pick<'w> {
    /// The wanted columns; a record's value for `wanted[k]` lands in slot `k`.
    pub wanted: &'w [String],
}

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Vec<Option<Json>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Vec<Option<Json>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.wanted.len()];
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match self.wanted.iter().position(|w| *w == key) {
                Some(k) => out[k] = Some(map.next_value::<Json>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// An object key, borrowed from the line unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_wanted_keys_and_skips_the_rest() {
        let wanted = ["a".to_string(), "b\"c".to_string(), "z".to_string()];
        let line = r#"{"a": 1, "skip": {"deep": [1, 2, "x"]}, "b\"c": "t", "a": 2}"#;
        let mut de = serde_json::Deserializer::from_str(line);
        let got = Pick { wanted: &wanted }.deserialize(&mut de).unwrap();
        de.end().unwrap();
        // The repeated "a" keeps its last value, as serde_json's Map does; "z" is absent.
        assert_eq!(got, [Some(Json::from(2)), Some(Json::from("t")), None]);
        let mut bad = serde_json::Deserializer::from_str("[1, 2]");
        assert!(Pick { wanted: &wanted }.deserialize(&mut bad).is_err());
    }
}
