#!/usr/bin/env python3
"""Regenerate fuzz/seeds/<target>/ from the project's fixtures and a corpus.

    python3 fuzz/make_seeds.py [CORPUS_DIR...]

Sources: ../fixtures (always) and each CORPUS_DIR given (a directory of real
repositories, e.g. a shared corpus). Files over 8 KB are skipped, contents
are de-duplicated, fixtures come first and the corpus is sampled evenly (in
sorted path order, so the result is deterministic) up to PER_TARGET files.
Seed names are `<sha1 prefix>-<origin basename>`.

The config, baseline, suppress, rego, helm and discover targets' seeds are picked by
hand (see each target's input layout) and are not regenerated here.

The `check` target's seeds follow its input layout (see
fuzz_targets/check.rs): one selector byte, then 1-3 file contents separated
by NUL bytes, the selector picking names that fit the files.
"""

import hashlib
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
SEEDS = os.path.join(HERE, "seeds")
MAX_FILE = 8 * 1024
PER_TARGET = 150

# Must match NAMES and name_for in fuzz_targets/check.rs.
NAMES = [
    "deployment.yaml",
    "main.tf",
    "task-definition.json",
    "Dockerfile",
    "kustomization.yaml",
    "prod.tfvars",
    "docker-compose.prod.yml",
    ".github/workflows/ci.yml",
    "variables.tf",
    "terraform.tfvars",
    "modules/db/main.tf",
    "k8s/overlays/prod/kustomization.yaml",
    "k8s/base/deployment.yaml",
    "policy.json",
    "staging/main.tf",
    "values-prod.yaml",
]


def name_for(sel, i):
    lo, hi = sel & 0x0F, sel >> 4
    return NAMES[[lo, hi, (lo ^ hi ^ 5) & 0x0F][min(i, 2)]]


def files_under(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in (".git", ".terraform"))
        for f in sorted(files):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) <= MAX_FILE:
                out.append(p)
    return out


def kind(path):
    base = os.path.basename(path)
    low = base.lower()
    if low.endswith((".yaml", ".yml")):
        return "yaml"
    if low.endswith(".json"):
        return "json"
    if low.endswith((".tf", ".tfvars")):
        return "hcl"
    if "dockerfile" in low:
        return "dockerfile"
    return None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sample(items, n):
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def write_seeds(target, entries):
    """entries: list of (origin basename, bytes), in priority order."""
    out = os.path.join(SEEDS, target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    seen = set()
    kept = 0
    for origin, data in entries:
        h = hashlib.sha1(data).hexdigest()
        if h in seen or not data:
            continue
        seen.add(h)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", origin)[:60]
        with open(os.path.join(out, f"{h[:16]}-{safe}"), "wb") as f:
            f.write(data)
        kept += 1
        if kept >= PER_TARGET:
            break
    return kept


def parser_seeds(fixtures, corpus, want, filt=lambda p: True):
    fx = [p for p in fixtures if kind(p) == want and filt(p)]
    co = [p for p in corpus if kind(p) == want and filt(p)]
    chosen = fx + sample(co, max(0, PER_TARGET - len(fx)))
    # Fixtures first; if de-duplication drops some, top up from the corpus.
    entries = [(os.path.basename(p), read(p)) for p in chosen]
    entries += [(os.path.basename(p), read(p)) for p in co if p not in chosen]
    return entries


def candidates(path):
    """Names in NAMES that fit a file, best first."""
    low = path.lower()
    base = os.path.basename(low)
    if low.endswith(".tfvars"):
        return ["prod.tfvars", "terraform.tfvars"]
    if low.endswith(".tf"):
        if "/modules/" in low:
            return ["modules/db/main.tf", "main.tf", "variables.tf"]
        if base.startswith("variables"):
            return ["variables.tf", "main.tf"]
        return ["main.tf", "staging/main.tf", "variables.tf"]
    if base == "kustomization.yaml" or base == "kustomization.yml":
        if "overlays" in low:
            return ["k8s/overlays/prod/kustomization.yaml", "kustomization.yaml"]
        return ["kustomization.yaml", "k8s/overlays/prod/kustomization.yaml"]
    if "compose" in base:
        return ["docker-compose.prod.yml"]
    if "/.github/workflows/" in low:
        return [".github/workflows/ci.yml"]
    if "dockerfile" in base:
        return ["Dockerfile"]
    if low.endswith(".json"):
        if "polic" in low or "scp" in low or "organizations" in low:
            return ["policy.json", "task-definition.json"]
        return ["task-definition.json", "policy.json"]
    if low.endswith((".yaml", ".yml")):
        if "values" in base:
            return ["values-prod.yaml", "deployment.yaml"]
        return ["deployment.yaml", "k8s/base/deployment.yaml", "values-prod.yaml"]
    return []


def selector(files):
    """A selector byte naming each file with a fitting, distinct name."""
    cands = [candidates(f) for f in files]
    best = None
    for sel in range(256):
        names = [name_for(sel, i) for i in range(len(files))]
        if len(set(names)) != len(names):
            continue
        if all(n in c for n, c in zip(names, cands)):
            score = sum(c.index(n) for n, c in zip(names, cands))
            if best is None or score < best[0]:
                best = (score, sel)
    return None if best is None else best[1]


def check_seeds(fixtures, corpus):
    """Groups of 1-3 files from one directory tree."""
    groups = []

    def add_groups(paths):
        by_dir = {}
        for p in paths:
            if kind(p) is None or os.path.basename(p) == "guard.toml":
                continue
            by_dir.setdefault(os.path.dirname(p), []).append(p)
        out = []
        for d in sorted(by_dir):
            fs = [f for f in by_dir[d] if candidates(f)]
            # Prefer small, diverse groups: up to 3 files of one directory.
            while fs:
                group = fs[:3]
                fs = fs[3:]
                while group and selector(group) is None:
                    group = group[:-1]
                if group:
                    out.append(group)
        return out

    fx_groups = add_groups(fixtures)
    co_groups = add_groups(corpus)
    chosen = fx_groups + sample(co_groups, max(0, PER_TARGET - len(fx_groups)))
    for group in chosen:
        sel = selector(group)
        data = bytes([sel]) + b"\0".join(read(f) for f in group)
        if len(data) <= 3 * MAX_FILE:
            groups.append(("+".join(os.path.basename(f) for f in group), data))
    return groups


def terraform_seeds(fixtures, corpus):
    """`main.tf` alone, or NUL + a `.tfvars` of the same directory."""
    entries = []
    for paths, limit in ((fixtures, None), (corpus, PER_TARGET)):
        tf = [p for p in paths if p.endswith(".tf")]
        tf = tf if limit is None else sample(tf, limit)
        for p in tf:
            d = os.path.dirname(p)
            vars_ = sorted(
                os.path.join(d, f) for f in os.listdir(d) if f.endswith(".tfvars")
            )
            vars_ = [v for v in vars_ if os.path.getsize(v) <= MAX_FILE]
            data = read(p)
            if vars_:
                data += b"\0" + read(vars_[0])
            entries.append((os.path.basename(p), data))
    return entries


def main():
    corpora = sys.argv[1:]
    fixtures = files_under(FIXTURES)
    corpus = [p for c in corpora for p in files_under(c)]
    counts = {
        "yaml": write_seeds("yaml", parser_seeds(fixtures, corpus, "yaml")),
        "json": write_seeds("json", parser_seeds(fixtures, corpus, "json")),
        "hcl": write_seeds("hcl", parser_seeds(fixtures, corpus, "hcl")),
        "dockerfile": write_seeds(
            "dockerfile", parser_seeds(fixtures, corpus, "dockerfile")
        ),
        "terraform": write_seeds("terraform", terraform_seeds(fixtures, corpus)),
        "check": write_seeds("check", check_seeds(fixtures, corpus)),
    }
    for t, n in counts.items():
        print(f"{t}: {n} seeds")


if __name__ == "__main__":
    main()
