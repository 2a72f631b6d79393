#!/usr/bin/env python3
"""Conformance tier: render every example and validate the output with the real tools.

For each example under examples/*/platform.yaml:
  1. `hafen render` it into a temporary folder;
  2. run the real kustomize (`kubectl kustomize`) on every folder holding a kustomization.yaml;
  3. validate every object kustomize emits:
       - core Kubernetes kinds with kubernetes-validate --strict (unknown fields fail);
       - custom resources against the upstream CRD schemas in ../shared/schemas (when that
         folder exists), strictly: unknown fields fail, and a kind with no schema fails;
  4. validate Talos machine-config patches against the Talos config schema when present;
  5. validate `hafen check --format sarif` output against the SARIF 2.1.0 schema.

Exit status 0 when everything passes, 1 otherwise. Run from the repository root:
    .venv/bin/python .ci/conformance.py [--hafen target/debug/hafen] [--keep DIR]
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
def find_schemas() -> Path:
    """The upstream schemas beside the checkout (`../shared/schemas`), or where
    HAFEN_SCHEMAS points, or the workplace's shared folder when CI clones elsewhere."""
    candidates = [os.environ.get("HAFEN_SCHEMAS"), ROOT / ".." / "shared" / "schemas", "/work/shared/schemas"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "index.tsv").exists():
            return Path(candidate).resolve()
    return (ROOT / ".." / "shared" / "schemas").resolve()


SCHEMAS = find_schemas()
K8S_VERSION = "1.34.0"

failures: list[str] = []


def fail(message: str) -> None:
    failures.append(message)
    print(f"FAIL {message}", flush=True)


def core_group(api_version: str) -> bool:
    """True for kinds whose schemas ship with Kubernetes itself."""
    if "/" not in api_version:
        return True  # v1
    group = api_version.split("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def load_crds() -> dict:
    """(group, kind) -> {version: openAPIV3Schema} from ../shared/schemas/index.tsv."""
    out: dict = {}
    index = SCHEMAS / "index.tsv"
    if not index.exists():
        return out
    for line in index.read_text().splitlines():
        if not line.strip():
            continue
        group, kind, served, _storage, path = line.split("\t")
        for doc in yaml.safe_load_all((SCHEMAS / path).read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            if doc["spec"]["group"] != group or doc["spec"]["names"]["kind"] != kind:
                continue
            for version in doc["spec"]["versions"]:
                if version["name"] in served.split(","):
                    schema = version.get("schema", {}).get("openAPIV3Schema", {})
                    out.setdefault((group, kind), {})[version["name"]] = strict(schema)
    return out


def strict(schema):
    """OpenAPI v3 (structural CRD schema) -> JSON Schema that rejects unknown fields."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    s = {k: strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-") or k == "x-kubernetes-int-or-string"}
    if schema.get("x-kubernetes-int-or-string"):
        s.pop("x-kubernetes-int-or-string", None)
        s.pop("type", None)
        s = {"anyOf": [{"type": "integer"}, {"type": "string"}], **{k: v for k, v in s.items() if k not in ("anyOf",)}}
    s.pop("x-kubernetes-int-or-string", None)
    if schema.get("nullable"):
        s.pop("nullable", None)
        if "type" in s:
            s["type"] = [s["type"], "null"] if isinstance(s["type"], str) else s["type"] + ["null"]
    if (
        schema.get("type") == "object"
        and "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        s["additionalProperties"] = False
    return s


METADATA_FIELDS = {"name", "namespace", "labels", "annotations", "generateName", "finalizers", "ownerReferences"}


def validate_custom(obj: dict, crds: dict, where: str) -> None:
    api_version = obj.get("apiVersion", "")
    group, _, version = api_version.partition("/")
    kind = obj.get("kind")
    versions = crds.get((group, kind))
    if versions is None:
        fail(f"{where}: {kind} ({api_version}) has no schema in ../shared/schemas")
        return
    schema = versions.get(version)
    if schema is None:
        fail(f"{where}: {kind} version {version} is not served (served: {', '.join(sorted(versions))})")
        return
    body = copy.deepcopy(obj)
    metadata = body.pop("metadata", {}) or {}
    unknown = set(metadata) - METADATA_FIELDS
    if unknown or not metadata.get("name"):
        fail(f"{where}: {kind} metadata invalid (unknown {sorted(unknown)} or no name)")
    body["metadata"] = {}
    schema = copy.deepcopy(schema)
    props = schema.setdefault("properties", {})
    props["metadata"] = {"type": "object"}
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    for error in errors[:5]:
        path = "/".join(str(p) for p in error.absolute_path)
        fail(f"{where}: {kind}/{metadata.get('name')} at `{path}`: {error.message[:300]}")


def validate_core(obj: dict, where: str) -> None:
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        fail(f"{where}: {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}: {error.message[:300]}")
    except kubernetes_validate.SchemaNotFoundError:
        fail(f"{where}: no Kubernetes schema for {obj.get('apiVersion')} {obj.get('kind')}")


def kustomize(kubectl: Path, folder: Path) -> list:
    result = subprocess.run([str(kubectl), "kustomize", str(folder)], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"kubectl kustomize {folder}: {result.stderr.strip()[:500]}")
        return []
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def talos_minor(version: str) -> tuple:
    parts = (version or "").lstrip("v").split(".")
    try:
        return (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        return (0, 0)


def talos_patches(repo: Path) -> list:
    """Talos machine-config patches inside TalosControlPlane / TalosConfigTemplate objects.

    Each patch string may hold several documents (the v1alpha1 config and, from Talos v1.12,
    documents such as TimeSyncConfig). Patches for Talos before v1.12 use the classic layout
    (machine.time, machine.registries, machine.network) that the v1.13 schema no longer has;
    they are skipped with a note rather than judged by the wrong schema."""
    patches = []
    for path in repo.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict):
                continue
            spec = doc.get("spec") or {}
            configs = []
            if doc.get("kind") == "TalosControlPlane":
                configs.append((spec.get("controlPlaneConfig") or {}).get("controlplane") or {})
            if doc.get("kind") == "TalosConfigTemplate":
                configs.append(((spec.get("template") or {}).get("spec")) or {})
            for config in configs:
                if talos_minor(config.get("talosVersion")) < (1, 12):
                    print(f"note {path.name}: Talos {config.get('talosVersion')} patches use the classic layout; not checked against the v1.13 schema", flush=True)
                    continue
                for patch in config.get("strategicPatches") or []:
                    for part in yaml.safe_load_all(patch):
                        if part:
                            patches.append((path, part))
    return patches


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hafen", default=str(ROOT / "target" / "debug" / "hafen"))
    parser.add_argument("--keep", help="render into this folder instead of a temporary one")
    args = parser.parse_args()
    hafen = Path(args.hafen)
    kubectl = Path(sys.executable).parent / "kubectl"
    crds = load_crds()
    if not crds:
        print("note: ../shared/schemas not found; custom resources are not validated", flush=True)
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hafen-conformance-"))
    workdir.mkdir(parents=True, exist_ok=True)
    examples = sorted(ROOT.glob("examples/*/platform.yaml"))
    if not examples:
        fail("no examples found")
    objects = 0
    for example in examples:
        name = example.parent.name
        out = workdir / name
        result = subprocess.run([str(hafen), "render", str(example), "--out", str(out), "--force"], capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"hafen render {example}: {result.stdout}{result.stderr}")
            continue
        folders = sorted(p.parent for p in out.rglob("kustomization.yaml"))
        if not folders:
            fail(f"{name}: rendered no kustomization.yaml")
        for folder in folders:
            rel = folder.relative_to(workdir)
            for obj in kustomize(kubectl, folder):
                objects += 1
                where = str(rel)
                if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
                    fail(f"{where}: not a Kubernetes object: {str(obj)[:120]}")
                elif core_group(obj["apiVersion"]):
                    validate_core(obj, where)
                elif crds:
                    validate_custom(obj, crds, where)
        talos_schema = SCHEMAS / "talos" / "config.schema.json"
        if talos_schema.exists():
            schema = json.loads(talos_schema.read_text())
            whole = jsonschema.Draft202012Validator(schema)
            # Classic `machine:`/`cluster:` patches are partial v1alpha1 configs; documents
            # with a `kind` are the newer multi-document configs, checked against the union.
            v1alpha1 = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/v1alpha1.Config"})
            for path, patch in talos_patches(out):
                patch = patch or {}
                if "kind" in patch:
                    errors = list(whole.iter_errors(patch))
                else:
                    errors = list(v1alpha1.iter_errors({"version": "v1alpha1", **patch}))
                for error in errors[:3]:
                    if error.validator == "required":
                        continue  # patches set only what they change
                    where = "/".join(str(p) for p in error.absolute_path)
                    fail(f"{path.relative_to(workdir)}: Talos patch at `{where}`: {error.message[:300]}")
        print(f"ok   {name}: {len(folders)} kustomizations", flush=True)

    sarif_schema = SCHEMAS / "sarif" / "sarif-schema-2.1.0.json"
    fixtures = sorted(ROOT.glob("tests/rules/*/fail*.yaml")) + examples
    if sarif_schema.exists():
        validator = jsonschema.Draft4Validator(json.loads(sarif_schema.read_text()))
        for fixture in fixtures:
            result = subprocess.run([str(hafen), "check", str(fixture), "--format", "sarif", "--as-of", "2026-11-22"], capture_output=True, text=True)
            if result.returncode not in (0, 1):
                fail(f"hafen check --format sarif {fixture}: exit {result.returncode}: {result.stderr[:300]}")
                continue
            for error in list(validator.iter_errors(json.loads(result.stdout)))[:3]:
                fail(f"SARIF of {fixture}: {error.message[:300]}")

    print(f"\n{objects} objects from {len(examples)} examples checked; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())
