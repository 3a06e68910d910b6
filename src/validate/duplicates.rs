//! Objects built twice. Kubernetes keeps one object per API group, kind, namespace and
//! name (and stackc one file per layer and lowercased `<kind>-<name>`), so when two
//! components produce the same one, one would silently replace the other. Typically a
//! component named like an object another component generates (an app
//! `kafka-exporter` beside Kafka's exporter Deployment). Each pair of components is one
//! collision, whatever the number of objects they share.

use crate::diag::Span;
use crate::object::Object;

/// The objects two components (or one, twice) both produce.
#[derive(Debug)]
pub struct Collision<'o> {
    /// The object as the component declared first produces it.
    pub first: &'o Object,
    /// The same object from the component declared later: the one to rename.
    pub again: &'o Object,
    /// Further objects the same two components both produce, in build order.
    pub more: Vec<&'o Object>,
}

/// Every collision among `objects`, one per pair of components, oriented by where
/// `declared` says each component is written (the later declaration is `again`).
pub fn collisions<'o>(
    objects: &'o [Object],
    declared: &dyn Fn(&Object) -> Option<Span>,
) -> Vec<Collision<'o>> {
    let mut collisions: Vec<Collision<'o>> = Vec::new();
    for (first, again) in repeated(objects) {
        let (first, again) = if later(declared(first), declared(again)) {
            (again, first)
        } else {
            (first, again)
        };
        let pair = |c: &Collision| {
            c.first.component == first.component && c.again.component == again.component
        };
        match collisions.iter_mut().find(|c| pair(c)) {
            // A workload leads: it is what the user recognizes as the component.
            Some(known) if workload(again) && !workload(known.again) => {
                known.more.insert(0, known.again);
                (known.first, known.again) = (first, again);
            }
            Some(known) => known.more.push(again),
            None => collisions.push(Collision {
                first,
                again,
                more: Vec::new(),
            }),
        }
    }
    collisions
}

/// Whether the object runs pods (a Deployment, StatefulSet, ...).
fn workload(object: &Object) -> bool {
    crate::kube::pod_template(&object.body).is_some()
}

/// Each object that repeats an earlier one's identity or file, with that earlier one.
/// Objects that can collide share their namespace, kind and name (up to case: a file
/// name is lowercased), so each object gets a number made from those ([`place_hash`]),
/// the numbers are sorted, and each run of equal numbers is compared within itself,
/// place by place: no file name made, and one sort of integers (this runs on every
/// object; sorting the objects by comparing their places was 4% of a 500-app
/// `render --check`'s instructions).
fn repeated(objects: &[Object]) -> Vec<(&Object, &Object)> {
    let mut order: Vec<(u64, usize)> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (place_hash(o), i))
        .collect();
    order.sort_unstable();
    let mut pairs = Vec::new();
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        for (i, &(_, k)) in run.iter().enumerate().skip(1) {
            let earlier = run[..i].iter().map(|&(_, e)| e).find(|&e| {
                same_place(&objects[e], &objects[k])
                    && same_object_or_file(&objects[e], &objects[k])
            });
            if let Some(e) = earlier {
                pairs.push((e, k));
            }
        }
    }
    pairs.sort_unstable_by_key(|&(_, k)| k);
    pairs
        .into_iter()
        .map(|(e, k)| (&objects[e], &objects[k]))
        .collect()
}

/// A number equal for objects of the same place (FNV-1a over the namespace, and the
/// kind and name lowercased); objects of different places rarely share one, and are
/// told apart by [`same_place`] when they do.
fn place_hash(o: &Object) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |byte: u8| hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
    match &o.namespace {
        Some(ns) => ns.bytes().for_each(&mut add),
        None => add(0xff),
    }
    add(0);
    o.kind.bytes().for_each(|b| add(b.to_ascii_lowercase()));
    add(0);
    o.name.bytes().for_each(|b| add(b.to_ascii_lowercase()));
    hash
}

/// Whether two objects share their namespace, kind and name, kind and name without
/// regard to case: their place, which [`place_hash`] numbers.
fn same_place(a: &Object, b: &Object) -> bool {
    a.namespace == b.namespace
        && a.kind.eq_ignore_ascii_case(&b.kind)
        && a.name.eq_ignore_ascii_case(&b.name)
}

/// Whether two objects of the same place ([`same_place`]) are one object to Kubernetes (API group,
/// kind, namespace and name) or one file to stackc (`<kind>-<name>` lowercased, in one
/// layer's namespace directory).
fn same_object_or_file(a: &Object, b: &Object) -> bool {
    fn group(o: &Object) -> &str {
        o.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
    let same_object = group(a) == group(b) && a.kind == b.kind && a.name == b.name;
    same_object || a.layer == b.layer
}

/// Whether declaration `a` comes after `b` (an unknown place counts as first: stackc's
/// own objects are no one's to rename).
fn later(a: Option<Span>, b: Option<Span>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a.file, a.start) > (b.file, b.start),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `app.kafka-exporter` → "app `kafka-exporter`", `monitoring` → "[monitoring]", none →
/// "stackc (for the whole stack)".
pub fn describe(component: Option<&str>) -> String {
    match component {
        Some(c) => match c.split_once('.') {
            Some((kind, name)) => format!("{kind} `{name}`"),
            None => format!("[{c}]"),
        },
        None => "stackc (for the whole stack)".into(),
    }
}

/// `Deployment conveyor-pipeline/kafka-exporter`.
pub fn named(object: &Object) -> String {
    match &object.namespace {
        Some(ns) => format!("{} {ns}/{}", object.kind, object.name),
        None => format!("{} {}", object.kind, object.name),
    }
}

impl Collision<'_> {
    /// What collides, said from the later component's side.
    pub fn message(&self) -> String {
        let again = describe(self.again.component.as_deref());
        let what = named(self.again);
        let mut message = if self.first.component == self.again.component {
            format!("{again} produces {what} twice")
        } else {
            format!(
                "{again} produces {what}, which {} also produces",
                describe(self.first.component.as_deref())
            )
        };
        if !self.more.is_empty() {
            let more: Vec<String> = self.more.iter().map(|o| named(o)).collect();
            message.push_str(&format!(" (and {})", more.join(", ")));
        }
        message
    }

    /// How to resolve it.
    pub fn help(&self) -> String {
        format!(
            "Kubernetes keeps one {} per namespace and name, so one would replace the other: rename {}",
            self.again.kind,
            describe(self.again.component.as_deref())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Layer;
    use serde_json::json;

    fn object(component: &str, layer: Layer, kind: &str, name: &str) -> Object {
        Object::new(
            layer,
            Some(component.to_owned()),
            &json!({
                "apiVersion": "apps/v1",
                "kind": kind,
                "metadata": { "name": name, "namespace": "ns" },
                "spec": { "template": { "spec": { "containers": [] } } },
            }),
        )
    }

    fn at(start: usize) -> Option<Span> {
        Some(Span {
            file: crate::diag::FileId(0),
            start,
            end: start + 1,
        })
    }

    #[test]
    fn one_collision_per_pair_of_components_at_the_later_one() {
        let objects = [
            object("kafka.k", Layer::Data, "Service", "x"),
            object("kafka.k", Layer::Data, "Deployment", "x"),
            object("app.x", Layer::Apps, "Service", "x"),
            object("app.x", Layer::Apps, "Deployment", "x"),
            object("app.x", Layer::Apps, "Deployment", "y"),
        ];
        let declared = |o: &Object| match o.component.as_deref() {
            Some("kafka.k") => at(10),
            _ => at(200),
        };
        let found = collisions(&objects, &declared);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message(),
            "app `x` produces Deployment ns/x, which kafka `k` also produces (and Service ns/x)"
        );
        assert_eq!(found[0].again.component.as_deref(), Some("app.x"));
    }

    #[test]
    fn a_file_collision_is_one_too() {
        let objects = [
            object("app.a", Layer::Apps, "Deployment", "x"),
            object("app.b", Layer::Apps, "deployment", "X"),
        ];
        let found = collisions(&objects, &|_| None);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message()
                .starts_with("app `b` produces deployment ns/X")
        );
    }

    #[test]
    fn distinct_objects_do_not_collide() {
        let objects = [
            object("app.a", Layer::Apps, "Deployment", "x"),
            object("app.a", Layer::Apps, "Service", "x"),
            object("app.b", Layer::Data, "Deployment", "y"),
        ];
        assert!(collisions(&objects, &|_| None).is_empty());
    }
}
