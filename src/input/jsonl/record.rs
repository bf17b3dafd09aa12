//! One JSON Lines record: which keys a run reads and how each value is deserialized.
//!
//! Owns the [`Plan`] (every column a run reads, fixed fields and requested extras alike) and the
//! serde seeds that read one object's wanted keys in a single parse: a fixed field's value
//! becomes a [`Cell`], an extra column's value a [`Raw`], and other keys are skipped without
//! allocating. It must not validate values; [`Columns`](super::super::columns::Columns) does.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;

use crate::input::columns::READ;
use crate::input::extra::{ExtraColumns, ExtraRequest, Raw};
use crate::input::value::{Cell, same_bytes};

/// The column name of each fixed field, or `None` for a field this run does not need.
pub type Keys<'a> = [Option<&'a str>; READ];

/// Every column a run reads from each record, each name once.
pub struct Plan {
    slots: Vec<Slot>,
    /// The extra columns requested, in order.
    pub requests: Vec<ExtraRequest>,
    /// The slot each request reads.
    request_slots: Vec<usize>,
}

/// One column name: the fixed field it fills, and whether extra requests read it (a column can
/// be both, e.g. `task_type` under `--segment-by task_type`).
struct Slot {
    name: String,
    field: Option<usize>,
    extra: bool,
}

impl Plan {
    /// The columns of the fixed fields in `keys` and of `requests`.
    pub fn new(keys: &Keys<'_>, requests: Vec<ExtraRequest>) -> Plan {
        let mut slots: Vec<Slot> = Vec::new();
        for (field, key) in keys.iter().enumerate() {
            if let Some(name) = key {
                slots.push(Slot {
                    name: name.to_string(),
                    field: Some(field),
                    extra: false,
                });
            }
        }
        let mut request_slots = Vec::with_capacity(requests.len());
        for r in &requests {
            let slot = match slots.iter().position(|s| s.name == r.column) {
                Some(i) => i,
                None => {
                    slots.push(Slot {
                        name: r.column.clone(),
                        field: None,
                        extra: false,
                    });
                    slots.len() - 1
                }
            };
            slots[slot].extra = true;
            request_slots.push(slot);
        }
        Plan {
            slots,
            requests,
            request_slots,
        }
    }

    /// Empty extra columns for one block of records.
    pub fn extra_columns(&self) -> ExtraColumns {
        ExtraColumns::new(&self.requests, &self.request_slots)
    }

    /// How to read the value of the key in `slot` (`None`: a key the plan does not read).
    pub fn read(&self, slot: Option<usize>) -> Read {
        match slot.map(|s| (s, &self.slots[s])) {
            Some((
                s,
                Slot {
                    field, extra: true, ..
                },
            )) => Read::Raw(s, *field),
            Some((_, Slot { field: Some(i), .. })) => Read::Cell(*i),
            _ => Read::Skip,
        }
    }

    /// The slot that reads the key `key` (`None`: the plan does not read it).
    pub fn slot(&self, key: &[u8]) -> Option<usize> {
        self.slots.iter().position(|s| s.name.as_bytes() == key)
    }

    /// How many [`Raw`] values a record yields (one per slot when any extra is requested).
    pub fn raw_slots(&self) -> usize {
        if self.requests.is_empty() {
            0
        } else {
            self.slots.len()
        }
    }
}

/// How a record reads one key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// No column reads it: skip it.
    Skip,
    /// A fixed field's cell (the field's index).
    Cell(usize),
    /// An extra column's raw value (the slot), which may also fill a fixed field.
    Raw(usize, Option<usize>),
}

/// A key seen at one position of the last record.
#[derive(Debug)]
struct Known {
    /// The key.
    key: Vec<u8>,
    /// Its slot in the plan.
    slot: Option<usize>,
    /// The key between quotes when it is plain (no quote, backslash or control byte, so that
    /// text is the key itself).
    quoted: Option<Vec<u8>>,
}

/// Remembers, for each key position in an object, the key last seen there and which slot of
/// the plan it is: records from one producer repeat their key order, so one comparison per key
/// usually replaces a search over every wanted name.
///
/// It also finds duplicate keys at no cost on that common path: entry `p` was checked against
/// entries `0..p` when it was stored, and storing an entry drops every later one, so a record
/// whose keys all match the cache has distinct keys; a key that misses is compared with the
/// record's earlier keys, which are the entries before it.
#[derive(Default)]
pub struct KeyCache {
    /// The keys of the last record, by position: the key, its slot, and the key between quotes
    /// when it is plain (no quote, backslash or control byte, so that text is the key itself).
    slots: Vec<Known>,
    /// Keys seen that the plan does not read (collected on cache misses only).
    unread: Vec<Vec<u8>>,
}

/// A key that appears twice in one object (the key, as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate(pub String);

impl KeyCache {
    /// The slot of the key at `position` in the current record (`None`: the plan does not
    /// read it), or the duplicate when an earlier key of the record is the same.
    pub fn lookup(
        &mut self,
        position: usize,
        key: &[u8],
        plan: &Plan,
    ) -> Result<Option<usize>, Duplicate> {
        if let Some(known) = self.slots.get(position)
            && known.key.as_slice() == key
        {
            return Ok(known.slot);
        }
        self.slots.truncate(position);
        if self.slots.iter().any(|k| k.key.as_slice() == key) {
            return Err(Duplicate(String::from_utf8_lossy(key).into_owned()));
        }
        let slot = plan.slot(key);
        if slot.is_none() && !self.unread.iter().any(|k| k.as_slice() == key) {
            self.unread.push(key.to_vec());
        }
        let plain = !key.iter().any(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let quoted = plain.then(|| [b"\"", key, b"\""].concat());
        self.slots.push(Known {
            key: key.to_vec(),
            slot,
            quoted,
        });
        Ok(slot)
    }

    /// When `rest` starts with the quoted key the last record had at `position` (a plain key,
    /// so the bytes between the quotes are the key itself): the length of the quoted key and
    /// its slot, as [`lookup`](Self::lookup) would give them. `None`: scan the key and look it
    /// up.
    #[inline]
    pub fn expected(&self, position: usize, rest: &[u8]) -> Option<(usize, Option<usize>)> {
        let known = self.slots.get(position)?;
        let quoted = known.quoted.as_deref()?;
        same_bytes(rest.get(..quoted.len())?, quoted).then_some((quoted.len(), known.slot))
    }

    /// The keys seen that the plan does not read.
    pub fn unread(&self) -> impl Iterator<Item = String> + '_ {
        self.unread
            .iter()
            .map(|k| String::from_utf8_lossy(k).into_owned())
    }

    /// The first `count` keys of the last record parsed, as text.
    pub fn keys(&self, count: usize) -> Vec<String> {
        let keys = self.slots.iter().take(count);
        keys.map(|k| String::from_utf8_lossy(&k.key).into_owned())
            .collect()
    }
}

/// Deserializes one JSON object: the fixed fields as cells (returned with the number of keys
/// the object has) and the extra columns' values into `raws`.
pub struct RecordSeed<'p, 'c, 'r, 'de> {
    /// What to read.
    pub plan: &'p Plan,
    /// The key positions of earlier records.
    pub cache: &'c mut KeyCache,
    /// One entry per slot (see [`Plan::raw_slots`]), all `None` on entry.
    pub raws: &'r mut [Option<Raw<'de>>],
    /// Set when the object repeats a key (the parse then fails).
    pub duplicate: &'r mut Option<Duplicate>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_, '_, 'de> {
    type Value = ([Cell<'de>; READ], usize);

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_, '_, 'de> {
    type Value = ([Cell<'de>; READ], usize);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cells: [Cell<'de>; READ] = Default::default();
        let mut position = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let slot = match self.cache.lookup(position, &key, self.plan) {
                Ok(slot) => slot,
                Err(d) => {
                    *self.duplicate = Some(d);
                    return Err(de::Error::custom("duplicate key"));
                }
            };
            position += 1;
            match self.plan.read(slot) {
                Read::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
                Read::Cell(i) => cells[i] = map.next_value_seed(CellSeed)?,
                Read::Raw(s, field) => {
                    let raw = map.next_value_seed(RawSeed)?;
                    if let Some(i) = field {
                        cells[i] = cell(&raw);
                    }
                    self.raws[s] = Some(raw);
                }
            }
        }
        Ok((cells, position))
    }
}

/// A fixed field's cell from a value also read as an extra column.
pub fn cell<'de>(raw: &Raw<'de>) -> Cell<'de> {
    match raw {
        Raw::Text(s) => Cell::Text(s.clone()),
        Raw::Json(Json::Null) => Cell::Null,
        Raw::Json(Json::Bool(b)) => Cell::Bool(*b),
        Raw::Json(Json::Number(n)) => Cell::Number(n.as_f64().unwrap_or(f64::NAN)),
        Raw::Json(Json::String(s)) => Cell::Text(Cow::Owned(s.clone())),
        Raw::Json(Json::Array(_)) => Cell::Unsupported("an array"),
        Raw::Json(Json::Object(_)) => Cell::Unsupported("an object"),
    }
}

/// The keys of one JSON object, sorted and each once as a JSON object lists them (bytes that
/// are not UTF-8 shown as U+FFFD); `None` when `line` is not one JSON object. Values are
/// skipped unread, so a number out of range in one does not hide the keys.
pub fn object_keys(line: &[u8]) -> Option<Vec<String>> {
    struct KeysOnly;
    impl<'de> Visitor<'de> for KeysOnly {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key_seed(KeySeed)? {
                map.next_value::<IgnoredAny>()?;
                keys.push(String::from_utf8_lossy(&key).into_owned());
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let mut keys = de::Deserializer::deserialize_map(&mut de, KeysOnly).ok()?;
    de.end().ok()?;
    keys.sort();
    keys.dedup();
    Some(keys)
}

/// A key as raw bytes (unescaped, borrowed when it has no escapes): names are compared
/// byte for byte, which skips UTF-8 validation of every key.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, [u8]>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, [u8]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_vec()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v.as_bytes()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.as_bytes().to_vec()))
    }
}

/// Deserializes one JSON value into a [`Cell`], borrowing strings where possible.
struct CellSeed;

impl<'de> DeserializeSeed<'de> for CellSeed {
    type Value = Cell<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed {
    type Value = Cell<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Cell::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cell::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cell::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Cell::Number(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cell::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cell::Text(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cell::Text(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Cell::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Cell::Null)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::Unsupported("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Cell::Unsupported("an object"))
    }
}

/// Deserializes one JSON value into a [`Raw`]: top-level text borrowed where possible, other
/// values as JSON.
struct RawSeed;

impl<'de> DeserializeSeed<'de> for RawSeed {
    type Value = Raw<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RawSeed {
    type Value = Raw<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Raw::Json(Json::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Raw::Json(Json::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Raw::Json(Json::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Raw::Json(
            serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number),
        ))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Raw::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Raw::Text(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Raw::Text(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Raw::Json(Json::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Raw::Json(Json::Null))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Raw::Json(Json::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            object.insert(k, v);
        }
        Ok(Raw::Json(Json::Object(object)))
    }
}
