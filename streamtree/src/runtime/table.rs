//! A set's tasks by key: the hand-written hash table behind `TaskSet`.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, Weak};

use compact_str::CompactString;

use super::slot::Slot;
use super::sync::Mutex;

/// A set's tasks by key. Each key is hashed once, with the std (keyed SipHash, so
/// flood-resistant) hasher, and the map itself is keyed by that `u64` with an identity
/// hash: lookups, inserts and growth never hash a key again. Keys whose 64-bit hashes
/// collide share a bucket.
///
/// Kept for throughput: growth never reads a slot (a plain set keyed through the slots
/// rehashes every key, one pointer chase each, at each doubling); see the figures on
/// [`SetLink`](super::slot::SetLink), measured together with it. The every-rerun lookup
/// is no faster for it (`submit_existing_key` 39 ns with it, 36 ns without: noise).
#[derive(Default)]
pub(crate) struct TaskTable {
    by_hash: HashMap<u64, Bucket, BuildHasherDefault<IdentityHasher>>,
    keys: RandomState,
    /// Slots with an input (`task(key).input(..)`): `dismiss_all` scans only when some.
    with_input: usize,
    /// Per key, the task the last `task(key)...run` of this session used (weak: a
    /// collected task is not kept; one entry per key, not per input). Supersede and
    /// keep_previous compare against it.
    pub(crate) latest: HashMap<CompactString, Weak<Slot>>,
}

enum Bucket {
    One(Arc<Slot>),
    Many(Vec<Arc<Slot>>),
}

impl Bucket {
    fn slots(&self) -> &[Arc<Slot>] {
        match self {
            Bucket::One(s) => std::slice::from_ref(s),
            Bucket::Many(v) => v,
        }
    }
}

/// Where [`TaskTable::find`] found no slot: the key's hash, for [`TaskTable::insert`].
#[must_use]
pub(crate) struct Vacancy(u64);

/// Passes a `u64` key through: the map's keys are already SipHash outputs.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl TaskTable {
    fn hash(&self, key: &str, input: Option<u64>) -> u64 {
        match input {
            None => self.keys.hash_one(key),
            Some(fp) => self.keys.hash_one((key, fp)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Arc<Slot>> {
        self.find(key).ok()
    }

    /// Slots with an input in the table.
    pub(crate) fn with_input(&self) -> usize {
        self.with_input
    }

    #[cfg(all(test, streamtree_loom))]
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds a slot whose key is not in the map.
    #[cfg(all(test, streamtree_loom))]
    pub(crate) fn insert_new(&mut self, slot: Arc<Slot>) {
        let vacancy = self.find(slot.key()).err().expect("one task per key");
        self.insert(vacancy, slot);
    }

    /// The slot under `key`, or else where to insert one for it (its hash: the key is
    /// hashed once for both).
    pub(crate) fn find(&self, key: &str) -> Result<&Arc<Slot>, Vacancy> {
        self.find_as(key, None)
    }

    /// [`find`](Self::find) for the identity (key, input).
    pub(crate) fn find_as(&self, key: &str, input: Option<u64>) -> Result<&Arc<Slot>, Vacancy> {
        let hash = self.hash(key, input);
        match self.by_hash.get(&hash) {
            Some(bucket) => match bucket
                .slots()
                .iter()
                .find(|s| s.key() == key && s.input() == input)
            {
                Some(slot) => Ok(slot),
                None => Err(Vacancy(hash)),
            },
            None => Err(Vacancy(hash)),
        }
    }

    /// Adds `slot` where [`find`](Self::find) found no slot for its key (nothing changed
    /// the map in between).
    pub(crate) fn insert(&mut self, Vacancy(hash): Vacancy, slot: Arc<Slot>) {
        if slot.input().is_some() {
            self.with_input += 1;
        }
        match self.by_hash.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(Bucket::One(slot));
            }
            Entry::Occupied(mut o) => {
                let b = o.get_mut();
                debug_assert!(
                    b.slots()
                        .iter()
                        .all(|s| s.key() != slot.key() || s.input() != slot.input()),
                    "one task per (key, input)"
                );
                let mut all = b.slots().to_vec();
                all.push(slot);
                *b = Bucket::Many(all);
            }
        }
    }

    #[cfg_attr(
        not(all(test, streamtree_loom)),
        allow(dead_code, reason = "the loom models' dismiss")
    )]
    pub(crate) fn remove(&mut self, key: &str) -> Option<Arc<Slot>> {
        self.remove_as(key, None)
    }

    /// [`remove`](Self::remove) for the identity (key, input); also forgets it as its
    /// key's latest.
    pub(crate) fn remove_as(&mut self, key: &str, input: Option<u64>) -> Option<Arc<Slot>> {
        let slot = self.remove_entry(key, input)?;
        if input.is_some() {
            self.with_input -= 1;
        }
        if self
            .latest
            .get(key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&slot)))
        {
            self.latest.remove(key);
        }
        Some(slot)
    }

    fn remove_entry(&mut self, key: &str, input: Option<u64>) -> Option<Arc<Slot>> {
        let is = |s: &Arc<Slot>| s.key() == key && s.input() == input;
        let Entry::Occupied(mut o) = self.by_hash.entry(self.hash(key, input)) else {
            return None;
        };
        match o.get_mut() {
            Bucket::One(s) if is(s) => Some(o.remove_entry().1.into_one()),
            Bucket::One(_) => None,
            Bucket::Many(v) => {
                let i = v.iter().position(is)?;
                let slot = v.swap_remove(i);
                if v.len() == 1 {
                    let last = v.pop().expect("one left");
                    *o.get_mut() = Bucket::One(last);
                }
                Some(slot)
            }
        }
    }

    pub(crate) fn slots(&self) -> impl Iterator<Item = &Arc<Slot>> {
        self.by_hash.values().flat_map(Bucket::slots)
    }
}

impl Bucket {
    fn into_one(self) -> Arc<Slot> {
        match self {
            Bucket::One(s) => s,
            Bucket::Many(_) => unreachable!("called on a single-slot bucket"),
        }
    }
}

/// Removes the terminal task under `key` from `map`, marking it dismissed; returns it (to
/// be dropped by the caller outside the lock). Pending, Running and absent keys: `None`.
///
/// Invariant: a slot is in the map if and only if it is not dismissed.
#[cfg_attr(
    not(all(test, streamtree_loom)),
    allow(dead_code, reason = "the loom models' dismiss")
)]
pub(crate) fn dismiss(map: &Mutex<TaskTable>, key: &str) -> Option<Arc<Slot>> {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    let slot = map.get(key)?;
    if !slot.try_dismiss() {
        return None;
    }
    map.remove(key)
}

/// Removes every terminal task under `key`, whatever its input (as [`dismiss`] does for
/// each); returns them, to be dropped outside the lock.
pub(crate) fn dismiss_all(map: &Mutex<TaskTable>, key: &str) -> Vec<Arc<Slot>> {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = Vec::new();
    let inputs: Vec<Option<u64>> = if map.with_input() == 0 {
        vec![None]
    } else {
        map.slots()
            .filter(|s| s.key() == key)
            .map(|s| s.input())
            .collect()
    };
    for input in inputs {
        if map.find_as(key, input).is_ok_and(|s| s.try_dismiss()) {
            out.extend(map.remove_as(key, input));
        }
    }
    out
}
