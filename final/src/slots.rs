//! Numbered places for an event loop's connections, with keys that go
//! stale when their connection leaves.
//!
//! mio reports news with a number (a `Token`), so each connection needs
//! one, and numbers are reused, or the list of connections would grow for
//! ever. But a number can outlive its connection: a worker thread may
//! still hold it, or a list of connections due another turn. If the
//! number now belongs to a new client, a late answer would reach the
//! wrong one. So each place also counts how many connections it has held,
//! and a [`Key`] is the place *and* that count: once its connection has
//! left, a key finds nothing, whoever holds the place now. The `slab`
//! crate does the numbering, but not the counting.

// ANCHOR: key
/// One connection, for as long as it lives: its place, and how many
/// connections that place had held before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    index: usize,
    generation: u64,
}

impl Key {
    /// The place's number: what mio's `Token` carries. A later connection
    /// may get it too, so events, which come only for registered sockets,
    /// use it, and everything that can outlive a connection uses the key.
    pub fn index(self) -> usize {
        self.index
    }
}
// ANCHOR_END: key

// ANCHOR: slots
/// Values in numbered places, each found by its [`Key`].
pub struct Slots<T> {
    places: Vec<Place<T>>,
    /// Places with no value, to reuse before growing `places`.
    free: Vec<usize>,
}

struct Place<T> {
    /// How many values this place has held, the current one included.
    generation: u64,
    value: Option<T>,
}

impl<T> Default for Slots<T> {
    fn default() -> Slots<T> {
        Slots {
            places: Vec::new(),
            free: Vec::new(),
        }
    }
}

// ANCHOR_END: slots

// ANCHOR: insert
impl<T> Slots<T> {
    /// Puts `value` in a free place, and returns its key.
    pub fn insert(&mut self, value: T) -> Key {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.places.push(Place {
                    generation: 0,
                    value: None,
                });
                self.places.len() - 1
            }
        };
        let place = &mut self.places[index];
        place.generation += 1;
        place.value = Some(value);
        Key {
            index,
            generation: place.generation,
        }
    }

    // ANCHOR_END: insert

    // ANCHOR: find
    /// The value `key` was given for, if it is still here.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let place = self.places.get_mut(key.index)?;
        if place.generation != key.generation {
            return None;
        }
        place.value.as_mut()
    }

    /// The key of whatever is in place `index` now.
    pub fn key_at(&self, index: usize) -> Option<Key> {
        let place = self.places.get(index)?;
        place.value.as_ref()?;
        Some(Key {
            index,
            generation: place.generation,
        })
    }

    // ANCHOR_END: find

    // ANCHOR: remove
    /// Takes out the value `key` was given for, if it is still here.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let place = self.places.get_mut(key.index)?;
        if place.generation != key.generation {
            return None;
        }
        let value = place.value.take()?;
        self.free.push(key.index);
        Some(value)
    }

    /// The keys of every value here.
    pub fn keys(&self) -> Vec<Key> {
        (0..self.places.len())
            .filter_map(|index| self.key_at(index))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.free.len() == self.places.len()
    }
}
// ANCHOR_END: remove

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_finds_its_value_until_it_is_removed_and_never_a_later_one() {
        let mut slots = Slots::default();
        let first = slots.insert("first");
        assert_eq!(slots.get_mut(first), Some(&mut "first"));
        assert_eq!(slots.remove(first), Some("first"));
        assert!(slots.is_empty());
        // The place is reused; the old key finds nothing there.
        let second = slots.insert("second");
        assert_eq!(second.index(), first.index());
        assert_eq!(slots.get_mut(first), None);
        assert_eq!(slots.remove(first), None);
        assert_eq!(slots.get_mut(second), Some(&mut "second"));
        assert_eq!(slots.key_at(first.index()), Some(second));
    }

    #[test]
    fn places_are_reused_before_new_ones_are_made() {
        let mut slots = Slots::default();
        let keys: Vec<Key> = (0..3).map(|n| slots.insert(n)).collect();
        assert_eq!(slots.remove(keys[1]), Some(1));
        assert_eq!(slots.keys(), [keys[0], keys[2]]);
        let again = slots.insert(9);
        assert_eq!(again.index(), 1);
        assert_eq!(slots.keys(), [keys[0], again, keys[2]]);
        assert!(!slots.is_empty());
        for key in slots.keys() {
            slots.remove(key);
        }
        assert!(slots.is_empty());
        assert_eq!(slots.key_at(0), None);
        assert_eq!(slots.key_at(7), None);
    }
}
