//! Kustomize: which overlays include which base resources, so that an
//! overlay's environment applies to the bases it renders, and its `images:`
//! overrides change the image the container really runs.

pub mod patch;

use crate::hash::HashSet;
use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::env::{Assignment, Env, Evidence};
use crate::model::{Container, Doc, DocKind, OtherDoc};
use crate::node::{Hop, Node};
use crate::source::{SourceFile, Span, join_path, parent_dir};

/// How many kustomizations deep an overlay may include bases.
const MAX_DEPTH: usize = 16;

/// One `images:` entry of a kustomization.
#[derive(Clone, Debug)]
pub struct ImageOverride {
    pub name: String,
    pub new_name: Option<Node>,
    pub new_tag: Option<Node>,
    pub digest: Option<Node>,
}

/// A top-level kustomization that renders a document.
#[derive(Clone, Debug)]
pub struct Overlay {
    /// Path of the kustomization file.
    pub kustomization: String,
    pub env: Option<Env>,
    /// `images:` overrides on the way from the overlay down to the
    /// document, innermost first (the order kustomize applies them).
    pub images: Vec<ImageOverride>,
    /// Replica counts set on the way (`replicas:` entries and patches that
    /// set `spec.replicas`), innermost first: the last that matches wins.
    pub replicas: Vec<ReplicasOverride>,
    /// Patches and renames on the way, innermost first (the order kustomize
    /// applies them): see [`render`].
    /// Shared by every document the overlay reaches.
    pub patches: std::sync::Arc<Vec<patch::Patch>>,
}

/// The document as this overlay renders it: its patches (strategic merge,
/// JSON 6902) and name prefixes applied; borrowed when none applies, `None`
/// when a patch deletes it.
pub fn render<'a>(doc: &'a Doc, o: &Overlay) -> Option<Cow<'a, Node>> {
    match patch::apply(&doc.root, &o.patches) {
        patch::Rendered::Patched(n) => Some(Cow::Owned(n)),
        patch::Rendered::Unchanged => Some(Cow::Borrowed(&doc.root)),
        patch::Rendered::Deleted => None,
    }
}

/// The patches of one kustomization (and its name prefix/suffix, last:
/// kustomize renames after patching at the same level).
fn patches_of(
    k: &Doc,
    kdir: &str,
    docs: &[Doc],
    others: &[OtherDoc],
    by_file: &BTreeMap<String, Vec<usize>>,
    others_by_file: &BTreeMap<String, Vec<usize>>,
) -> Vec<patch::Patch> {
    let mut out = Vec::new();
    let from_file = |f: &str, target: Option<patch::Target>, out: &mut Vec<patch::Patch>| {
        let Some(path) = join_path(kdir, f) else {
            return;
        };
        let roots = by_file
            .get(&path)
            .into_iter()
            .flatten()
            .filter_map(|&d| docs.get(d).map(|d| (d.index, &d.root)))
            .chain(
                others_by_file
                    .get(&path)
                    .into_iter()
                    .flatten()
                    .filter_map(|&d| others.get(d).map(|d| (d.index, &d.root))),
            );
        let mut roots: Vec<(usize, &Node)> = roots.collect();
        roots.sort_by_key(|(i, _)| *i);
        for (_, r) in roots {
            out.extend(patch::from_doc(r, target.clone()));
        }
    };
    for e in k
        .root
        .get("patchesStrategicMerge")
        .map(Node::as_seq)
        .unwrap_or(&[])
    {
        match e.as_str() {
            Some(s) if s.contains('\n') => out.extend(patch::inline(e, None)),
            Some(f) => from_file(f, None, &mut out),
            None => {}
        }
    }
    for key in ["patches", "patchesJson6902"] {
        for e in k.root.get(key).map(Node::as_seq).unwrap_or(&[]) {
            let target = e.get("target").map(patch::Target::of);
            if let Some(f) = e.str_at(&["path"]) {
                from_file(f, target, &mut out);
            } else if let Some(p) = e.get("patch") {
                out.extend(patch::inline(p, target));
            } else if let Some(f) = e.as_str() {
                from_file(f, None, &mut out);
            }
        }
    }
    let s = |key: &str| k.root.str_at(&[key]).unwrap_or("").to_string();
    let (prefix, suffix) = (s("namePrefix"), s("nameSuffix"));
    if !prefix.is_empty() || !suffix.is_empty() {
        out.push(patch::Patch::Rename { prefix, suffix });
    }
    out
}

/// A replica count a kustomization sets for a workload.
#[derive(Clone, Debug)]
pub struct ReplicasOverride {
    /// The kind a patch targets (None: a `replicas:` entry, any kind).
    pub kind: Option<String>,
    pub name: String,
    pub count: Node,
    /// "`replicas:` of overlays/prod/kustomization.yaml", "patch replicas.yaml".
    pub what: String,
}

/// The replica counts a kustomization sets: its `replicas:` entries, and
/// the `spec.replicas` of its patch files (`patchesStrategicMerge`,
/// `patches: - path:`).
fn replicas_of(
    k: &Doc,
    kdir: &str,
    kpath: &str,
    docs: &[Doc],
    by_file: &BTreeMap<String, Vec<usize>>,
) -> Vec<ReplicasOverride> {
    let mut out = Vec::new();
    for r in k.root.get("replicas").map(Node::as_seq).unwrap_or(&[]) {
        if let (Some(name), Some(count)) = (r.str_at(&["name"]), r.get("count")) {
            out.push(ReplicasOverride {
                kind: None,
                name: name.to_string(),
                count: count.clone(),
                what: format!("`replicas:` of {kpath}"),
            });
        }
    }
    let strategic = k
        .root
        .get("patchesStrategicMerge")
        .map(Node::as_seq)
        .unwrap_or(&[]);
    let patches = k.root.get("patches").map(Node::as_seq).unwrap_or(&[]);
    let files = strategic.iter().filter_map(Node::as_str).chain(
        patches
            .iter()
            .filter_map(|p| p.str_at(&["path"]).or_else(|| p.as_str())),
    );
    for f in files {
        let Some(path) = join_path(kdir, f) else {
            continue;
        };
        for &d in by_file.get(&path).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(patch) = docs.get(d) else { continue };
            let DocKind::Kubernetes {
                kind,
                name: Some(name),
            } = &patch.kind
            else {
                continue;
            };
            if let Some(count) = patch.root.path(&["spec", "replicas"]) {
                out.push(ReplicasOverride {
                    kind: Some(kind.clone()),
                    name: name.clone(),
                    count: count.clone(),
                    what: format!("patch {path}"),
                });
            }
        }
    }
    out
}

impl Overlay {
    /// The replica count this overlay gives the workload `kind`/`name`,
    /// if it sets one.
    pub fn replicas_for(&self, kind: &str, name: &str) -> Option<&ReplicasOverride> {
        self.replicas
            .iter()
            .rev()
            .find(|r| r.name == name && r.kind.as_deref().is_none_or(|k| k == kind))
    }
}

fn images_of(k: &Node) -> Vec<ImageOverride> {
    k.get("images")
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|i| {
            Some(ImageOverride {
                name: i.str_at(&["name"])?.to_string(),
                new_name: i.get("newName").cloned(),
                new_tag: i.get("newTag").cloned(),
                digest: i.get("digest").cloned(),
            })
        })
        .collect()
}

/// Where the kustomizations and documents are: directory -> kustomization
/// document, file path -> documents (and the other documents, JSON 6902
/// patches), and which kustomizations another one includes.
struct Index {
    kdirs: BTreeMap<String, usize>,
    by_file: BTreeMap<String, Vec<usize>>,
    others_by_file: BTreeMap<String, Vec<usize>>,
    included: HashSet<usize>,
}

fn index(docs: &[Doc], others: &[OtherDoc], sources: &[SourceFile]) -> Index {
    let mut kdirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_file: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        let p = path_in(sources, d).to_string();
        if d.kind == DocKind::Kustomization {
            kdirs.insert(parent_dir(&p).to_string(), i);
        }
        by_file.entry(p).or_default().push(i);
    }
    let mut others_by_file: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in others.iter().enumerate() {
        if let Some(s) = sources.get(d.file.0 as usize) {
            others_by_file
                .entry(s.path.to_string())
                .or_default()
                .push(i);
        }
    }
    // Which kustomizations are included by another one (not top level).
    let mut included: HashSet<usize> = HashSet::default();
    for (dir, &k) in &kdirs {
        for r in resources(&docs[k].root) {
            if let Some(p) = join_path(dir, r)
                && let Some(&sub) = kdirs.get(&p)
                && sub != k
            {
                included.insert(sub);
            }
        }
    }
    Index {
        kdirs,
        by_file,
        others_by_file,
        included,
    }
}

fn path_in<'s>(sources: &'s [SourceFile], d: &Doc) -> &'s str {
    sources.get(d.file.0 as usize).map_or("", |s| &*s.path)
}

/// Every document the kustomization `top` (in directory `dir`) renders,
/// with the overlay that renders it (environment `env`): its own and its
/// bases' images, replica counts and patches. `extra` are patches added to
/// the top kustomization's own (an Argo CD Application's
/// `kustomize.patches`, a Flux Kustomization's `patches`): after its
/// patches and components', before its name prefix and suffix.
fn reach(
    docs: &[Doc],
    others: &[OtherDoc],
    sources: &[SourceFile],
    ix: &Index,
    (dir, top, env): (&str, usize, Option<Env>),
    extra: &[patch::Patch],
) -> Vec<(usize, Overlay)> {
    let Index {
        kdirs,
        by_file,
        others_by_file,
        ..
    } = ix;
    let kpath = path_in(sources, &docs[top]).to_string();
    // A kustomization's own `images:` and replica counts, plus those
    // of its `components:`.
    let images_with_components = |k: usize, kdir: &str| {
        let kp = path_in(sources, &docs[k]).to_string();
        let mut imgs = images_of(&docs[k].root);
        let mut reps = replicas_of(&docs[k], kdir, &kp, docs, by_file);
        let mut pats: Vec<patch::Patch> = Vec::new();
        for c in docs[k]
            .root
            .get("components")
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
        {
            if let Some(cdir) = join_path(kdir, c)
                && let Some(&ck) = kdirs.get(&cdir)
            {
                imgs.extend(images_of(&docs[ck].root));
                let cp = path_in(sources, &docs[ck]).to_string();
                reps.extend(replicas_of(&docs[ck], &cdir, &cp, docs, by_file));
                pats.extend(patches_of(
                    &docs[ck],
                    &cdir,
                    docs,
                    others,
                    by_file,
                    others_by_file,
                ));
            }
        }
        // A kustomization's own patches and renames come after its
        // components'.
        let own = patches_of(&docs[k], kdir, docs, others, by_file, others_by_file);
        let (renames, patches): (Vec<_>, Vec<_>) = own
            .into_iter()
            .partition(|p| matches!(p, patch::Patch::Rename { .. }));
        let mut all = patches;
        all.append(&mut pats);
        if k == top {
            all.extend(extra.iter().cloned());
        }
        all.extend(renames);
        (imgs, reps, all)
    };
    type Frame = (
        String,
        usize,
        (Vec<ImageOverride>, Vec<ReplicasOverride>, Vec<patch::Patch>),
        usize,
    );
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = vec![(dir.to_string(), top, images_with_components(top, dir), 0)];
    let mut seen = HashSet::default();
    while let Some((kdir, k, (images, replicas, patches), depth)) = stack.pop() {
        if depth > MAX_DEPTH || !seen.insert(k) {
            continue;
        }
        // One copy for every document this kustomization reaches.
        let patches = std::sync::Arc::new(patches);
        for r in resources(&docs[k].root) {
            let Some(p) = join_path(&kdir, r) else {
                continue;
            };
            if let Some(&sub) = kdirs.get(&p) {
                // Inner overrides apply first.
                let (mut imgs, mut reps, mut pats) = images_with_components(sub, &p);
                imgs.extend(images.iter().cloned());
                reps.extend(replicas.iter().cloned());
                pats.extend(patches.iter().cloned());
                stack.push((p, sub, (imgs, reps, pats), depth + 1));
            } else if let Some(ds) = by_file.get(&p) {
                for &d in ds {
                    out.push((
                        d,
                        Overlay {
                            kustomization: kpath.clone(),
                            env,
                            images: images.clone(),
                            replicas: replicas.clone(),
                            patches: patches.clone(),
                        },
                    ));
                }
            }
        }
    }
    out
}

/// Resolve every kustomization's `resources:`/`bases:`, record on each
/// document the overlays that render it, and give documents without
/// environment evidence of their own the environment of those overlays
/// (when they agree).
pub fn propagate(docs: &mut [Doc], others: &[OtherDoc], sources: &[SourceFile]) {
    let ix = index(docs, others, sources);
    if ix.kdirs.is_empty() {
        return;
    }
    let mut reached: Vec<Vec<Overlay>> = vec![Vec::new(); docs.len()];
    for (dir, &top) in &ix.kdirs {
        if ix.included.contains(&top) {
            continue;
        }
        let env = docs[top].assignment.env;
        for (d, o) in reach(docs, others, sources, &ix, (dir, top, env), &[]) {
            reached[d].push(o);
        }
    }
    for (d, overlays) in reached.into_iter().enumerate() {
        if overlays.is_empty() {
            continue;
        }
        let doc = &mut docs[d];
        doc.overlays = overlays;
        place_by_overlays(doc);
    }
}

/// A document without environment evidence of its own takes the
/// environment of the overlays that render it, when they agree.
fn place_by_overlays(doc: &mut Doc) {
    if doc.assignment.env.is_some() || doc.overlays.is_empty() {
        return;
    }
    let envs: HashSet<Option<Env>> = doc.overlays.iter().map(|o| o.env).collect();
    if envs.len() == 1
        && let Some(Some(e)) = envs.into_iter().next()
    {
        doc.assignment = Assignment::new(
            e,
            Evidence::Overlay {
                kustomization: doc.overlays[0].kustomization.clone(),
                span: doc.root.span,
            },
        );
    }
}

/// A GitOps application that deploys a directory of this repository with
/// overrides of its own (see [`deploy`]).
#[derive(Clone, Debug)]
pub struct AppDeploy {
    /// The directory (`overlays/prod`), normalised.
    pub dir: String,
    pub env: Option<Env>,
    /// Patches added to the kustomization's own (inline patches of the
    /// Application or Flux Kustomization).
    pub patches: Vec<patch::Patch>,
    /// Applied last, to every object the build made (Flux's post-build
    /// variable substitution).
    pub post: Vec<patch::Patch>,
    /// A directory without a kustomization: Flux takes the manifests of
    /// its subdirectories too, Argo CD only its own (`directory.recurse`
    /// off).
    pub recursive: bool,
    /// Another application deploys the same directory without overrides:
    /// the plain rendering is deployed too.
    pub keep_plain: bool,
}

/// The renderings GitOps applications make of the directories they deploy
/// with overrides (patches, post-build substitution): each becomes one more
/// overlay of every document it renders, in the application's environment
/// (else the kustomization's). A top-level kustomization's plain rendering
/// is replaced by the applications' (what is deployed is the patched
/// build), unless another application deploys it as written.
pub fn deploy(docs: &mut [Doc], others: &[OtherDoc], sources: &[SourceFile], apps: &[AppDeploy]) {
    if apps.is_empty() {
        return;
    }
    let ix = index(docs, others, sources);
    let mut added: Vec<Vec<Overlay>> = vec![Vec::new(); docs.len()];
    let mut replaced: Vec<(usize, String)> = Vec::new();
    for a in apps {
        let rendered: Vec<(usize, Overlay)> = match ix.kdirs.get(&a.dir) {
            Some(&top) => {
                let env = a.env.or(docs[top].assignment.env);
                let mut r = reach(docs, others, sources, &ix, (&a.dir, top, env), &a.patches);
                if !a.keep_plain && !ix.included.contains(&top) {
                    let kpath = path_in(sources, &docs[top]);
                    replaced.extend(r.iter().map(|(d, _)| (*d, kpath.to_string())));
                }
                if !a.post.is_empty() {
                    for (_, o) in &mut r {
                        let mut all = o.patches.as_ref().clone();
                        all.extend(a.post.iter().cloned());
                        o.patches = std::sync::Arc::new(all);
                    }
                }
                r
            }
            None => {
                let mut all = a.patches.clone();
                all.extend(a.post.iter().cloned());
                let patches = std::sync::Arc::new(all);
                docs.iter()
                    .enumerate()
                    .filter(|(_, d)| d.kind != DocKind::Kustomization)
                    .filter(|(_, d)| {
                        let dir = parent_dir(path_in(sources, d));
                        dir == a.dir
                            || (a.recursive
                                && (a.dir.is_empty()
                                    || dir
                                        .strip_prefix(a.dir.as_str())
                                        .is_some_and(|r| r.starts_with('/'))))
                    })
                    .map(|(i, _)| {
                        (
                            i,
                            Overlay {
                                kustomization: a.dir.clone(),
                                env: a.env,
                                images: Vec::new(),
                                replicas: Vec::new(),
                                patches: patches.clone(),
                            },
                        )
                    })
                    .collect()
            }
        };
        for (d, o) in rendered {
            if let Some(slot) = added.get_mut(d) {
                slot.push(o);
            }
        }
    }
    for (d, kpath) in replaced {
        if let Some(doc) = docs.get_mut(d) {
            doc.overlays.retain(|o| o.kustomization != kpath);
        }
    }
    for (d, overlays) in added.into_iter().enumerate() {
        if overlays.is_empty() {
            continue;
        }
        let doc = &mut docs[d];
        doc.overlays.extend(overlays);
        place_by_overlays(doc);
    }
}

fn resources(k: &Node) -> impl Iterator<Item = &str> {
    ["resources", "bases", "components"]
        .into_iter()
        .filter_map(|key| k.get(key))
        .flat_map(|n| n.as_seq().iter())
        .filter_map(Node::as_str)
}

/// One container per overlay that renders the document, with the image the
/// overlay really deploys; the container itself when no overlay renders it.
pub fn apply_overlays(doc: &Doc, base: Container) -> Vec<Container> {
    if doc.overlays.is_empty() {
        return vec![base];
    }
    doc.overlays
        .iter()
        .map(|o| apply_overlay(doc, o, base.clone()))
        .collect()
}

/// A container (of the document as `o` renders it) as `o` deploys it: its
/// environment and its image after `images:` overrides.
pub fn apply_overlay(doc: &Doc, o: &Overlay, base: Container) -> Container {
    let mut c = base;
    c.overlay = Some(o.kustomization.clone());
    if doc.assignment.env.is_none() || o.env.is_some() {
        c.env = o.env.or(doc.assignment.env);
    }
    if let Some(img) = c.image.take() {
        let (image, repo_span) = override_image(&img, &o.images);
        c.image = Some(image);
        c.image_repo_span = repo_span;
    }
    c
}

/// Apply `images:` overrides to an image node. The result is located at the
/// override that decided the tag (or, failing that, the name), with every
/// override and the base image as hops; the second value is where the
/// repository part was decided (the base image, or the `newName:` that
/// renamed it) when the result is located elsewhere.
fn override_image(img: &Node, images: &[ImageOverride]) -> (Node, Option<Span>) {
    let Some(text) = img.as_str() else {
        return (img.clone(), None);
    };
    let Some(r) = super::image::ImageRef::parse(text) else {
        return (img.clone(), None);
    };
    let mut name = match r.registry {
        Some(reg) => format!("{reg}/{}", r.repository),
        None => r.repository.to_string(),
    };
    let mut tag = r.tag.map(|t| format!(":{t}")).unwrap_or_default();
    if let Some(d) = r.digest {
        tag.push('@');
        tag.push_str(d);
    }
    let mut name_at: Option<&Node> = None;
    let mut tag_at: Option<(&Node, &str)> = None;
    for o in images {
        if o.name != name {
            continue;
        }
        if let Some(n) = o.new_name.as_ref().and_then(|n| n.as_str().map(|s| (n, s))) {
            name = n.1.to_string();
            name_at = Some(n.0);
        }
        if let Some(t) = &o.new_tag
            && let Some(s) = t.scalar_text()
        {
            tag = format!(":{s}");
            tag_at = Some((t, "newTag"));
        }
        if let Some(d) = o.digest.as_ref().and_then(|d| d.as_str().map(|s| (d, s))) {
            tag = format!("@{}", d.1);
            tag_at = Some((d.0, "digest"));
        }
    }
    let Some(at) = tag_at.map(|t| t.0).or(name_at) else {
        return (img.clone(), None);
    };
    let mut hops = Vec::new();
    if let Some((t, what)) = tag_at {
        hops.push(Hop {
            span: t.span,
            label: format!("{what} set by the overlay's `images:`").into(),
        });
    }
    if let Some(n) = name_at {
        hops.push(Hop {
            span: n.span,
            label: "newName set by the overlay's `images:`".into(),
        });
    }
    hops.push(Hop {
        span: img.span,
        label: format!("base image `{text}`").into(),
    });
    let node = Node::string(at.span, format!("{name}{tag}")).with_via(crate::node::Chain::of(hops));
    // The repository is still the base's unless an overlay renamed it.
    (node, Some(name_at.map_or(img.span, |n| n.span)))
}
