//! Property tests of the tree: random sequences of create, move, copy and delete keep the store
//! equal to a simple model, with no cycles, no orphans (rows or streams) and every standard
//! folder in place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mailroom_store::{DB_FILE, EntryId, Filter, InvalidOperation, NewEntry, Store, StoreError};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Folder(usize),
    Message(usize),
    Move(usize, usize),
    Copy(usize, usize),
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..64usize;
    prop_oneof![
        i.clone().prop_map(Op::Folder),
        i.clone().prop_map(Op::Message),
        (i.clone(), i.clone()).prop_map(|(a, b)| Op::Move(a, b)),
        (i.clone(), i.clone()).prop_map(|(a, b)| Op::Copy(a, b)),
        i.prop_map(Op::Delete),
    ]
}

/// The model: each entry's parent.
type Model = BTreeMap<EntryId, EntryId>;

fn subtree(model: &Model, root: EntryId) -> BTreeSet<EntryId> {
    let mut out = BTreeSet::from([root]);
    loop {
        let more: Vec<EntryId> = model
            .iter()
            .filter(|(id, p)| out.contains(p) && !out.contains(id))
            .map(|(id, _)| *id)
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

/// Reads the whole tree from the store by walking down from the root.
fn walk(store: &Store) -> Model {
    let mut model = Model::new();
    let mut todo = vec![EntryId::ROOT];
    while let Some(id) = todo.pop() {
        for child in store.children(id, &Filter::all()).unwrap() {
            assert_eq!(child.parent, id);
            assert!(
                model.insert(child.id, id).is_none(),
                "{} reached twice",
                child.id
            );
            todo.push(child.id);
        }
    }
    model
}

/// Row-level checks straight on the database file.
fn check_rows(dir: &Path, expected_entries: usize) {
    let db = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        rows as usize, expected_entries,
        "rows unreachable from the root (orphans)"
    );
    let dangling: i64 = db
        .query_row(
            "SELECT (SELECT count(*) FROM streams WHERE entry NOT IN (SELECT id FROM entries))
                  + (SELECT count(*) FROM chunks WHERE stream NOT IN (SELECT id FROM streams))
                  + (SELECT count(*) FROM recipients WHERE entry NOT IN (SELECT id FROM entries))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dangling, 0, "streams, chunks or recipients left behind");
}

fn run(ops: &[Op]) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut model = walk(&store);
    let pick = |model: &Model, i: usize| {
        let ids: Vec<EntryId> = std::iter::once(EntryId::ROOT)
            .chain(model.keys().copied())
            .collect();
        ids[i % ids.len()]
    };
    for op in ops {
        match *op {
            Op::Folder(p) | Op::Message(p) => {
                let parent = pick(&model, p);
                let new = match op {
                    Op::Folder(_) => NewEntry::folder(parent, "f"),
                    _ => NewEntry::message(parent, "smtp", None),
                };
                let id = store.create(&new, &mut [("s", &mut &b"data"[..])]).unwrap();
                model.insert(id, parent);
            }
            Op::Move(a, b) => {
                let (a, b) = (pick(&model, a), pick(&model, b));
                let result = store.move_to(a, b);
                if a.is_standard() {
                    assert!(matches!(
                        result,
                        Err(StoreError::Invalid(InvalidOperation::StandardEntry(_)))
                    ));
                } else if subtree(&model, a).contains(&b) && model[&a] != b {
                    assert!(matches!(
                        result,
                        Err(StoreError::Invalid(InvalidOperation::Cycle { .. }))
                    ));
                } else {
                    result.unwrap();
                    model.insert(a, b);
                }
            }
            Op::Copy(a, b) => {
                let (a, b) = (pick(&model, a), pick(&model, b));
                let result = store.copy(a, b);
                if a == EntryId::ROOT {
                    assert!(result.is_err());
                } else if subtree(&model, a).contains(&b) {
                    assert!(matches!(
                        result,
                        Err(StoreError::Invalid(InvalidOperation::Cycle { .. }))
                    ));
                } else {
                    let copy = result.unwrap();
                    let source_size = subtree(&model, a).len();
                    model = walk(&store);
                    assert_eq!(model[&copy], b);
                    assert_eq!(subtree(&model, copy).len(), source_size);
                    assert!(subtree(&model, copy).iter().all(|id| !id.is_standard()));
                }
            }
            Op::Delete(a) => {
                let a = pick(&model, a);
                let result = store.delete(a);
                if a.is_standard() {
                    assert!(matches!(
                        result,
                        Err(StoreError::Invalid(InvalidOperation::StandardEntry(_)))
                    ));
                } else {
                    result.unwrap();
                    for gone in subtree(&model, a) {
                        model.remove(&gone);
                        assert!(matches!(store.entry(gone), Err(StoreError::NotFound(_))));
                    }
                }
            }
        }
        assert_eq!(walk(&store), model, "after {op:?}");
        for id in EntryId::STANDARD.iter().skip(1) {
            assert!(model.contains_key(id), "standard entry {id} lost");
        }
        // No cycles: every parent chain reaches the root within the number of entries.
        for &start in model.keys() {
            let (mut at, mut steps) = (start, 0);
            while at != EntryId::ROOT {
                at = model[&at];
                steps += 1;
                assert!(steps <= model.len(), "cycle through {start}");
            }
        }
    }
    check_rows(dir.path(), model.len() + 1);
    store.check().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_tree_sound(ops in proptest::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}

/// How many cases a property test runs: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
