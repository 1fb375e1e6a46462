"""Helm as the reference for guard's chart rendering (tests/helm_reference.rs).

Reads one request as JSON on standard input:

    {"chart": DIR, "values": [FILE, ...], "name": RELEASE, "namespace": NS,
     "guard": {TEMPLATE: RENDERED_TEXT, ...}}

renders the chart with Helm's own engine (the `helm-python-sdk` package: Helm v4's Go
library, offline, like `helm template`), with the values files merged in order as `-f`
merges them, and writes

    {"helm": {TEMPLATE: [DOC, ...]}, "guard": {TEMPLATE: [DOC, ...]}, "error": null | TEXT}

where both sides' texts are read by the same YAML reader (PyYAML), empty documents left
out, so that what is compared is the data, not the layout. NOTES.txt is not a manifest
and is left out. Exit status 3 when helm_python cannot be imported.
"""

import json
import sys

try:
    import yaml
    from helm_python import Chart
except ImportError as e:  # the caller prints a visible skip
    print(f"helm_python unavailable: {e}", file=sys.stderr)
    sys.exit(3)


def merge(base, over):
    """`helm -f a -f b`: maps merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


# YAML 1.1's value key (`=`) is text in a manifest, not a constructor PyYAML lacks.
yaml.SafeLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def docs(text):
    out = []
    for d in yaml.safe_load_all(text):
        if d is not None:
            out.append(d)
    return out


def main():
    req = json.load(sys.stdin)
    values = {}
    for f in req.get("values", []):
        with open(f, encoding="utf-8") as fh:
            v = yaml.safe_load(fh) or {}
        values = merge(values, v)
    result = {"helm": {}, "guard": {}, "error": None}
    try:
        chart = Chart.load(req["chart"])
        rendered = chart.render(
            values=values, name=req.get("name"), namespace=req.get("namespace")
        )
        for name, text in rendered.items():
            if name.endswith("NOTES.txt"):
                continue
            d = docs(text)
            if d:
                result["helm"][name] = d
    except Exception as e:  # a chart Helm refuses: the caller decides
        result["error"] = str(e)
    for name, text in req.get("guard", {}).items():
        try:
            d = docs(text)
        except yaml.YAMLError as e:
            d = [{"guard output is not YAML": str(e)}]
        if d:
            result["guard"][name] = d
    json.dump(result, sys.stdout, default=str, sort_keys=True)


main()
