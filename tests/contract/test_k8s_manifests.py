"""Kubernetes manifests under deploy/k8s: schema-valid, hardened, wired together.

Offline and fast: Kubernetes kinds validate against the JSON schemas shipped by
`kubernetes-validate` (strict: unknown fields fail), Strimzi KafkaTopics against
`kafkatopic.schema.json`, and each overlay is rendered with the `kustomize` binary
(`go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2`) and validated whole.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "prod")
KUSTOMIZE_INSTALL = "go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2"

# Oldest Kubernetes we support (native gRPC probes are GA since 1.27) and the newest schema
# the package ships.
KUBE_VERSIONS = ("1.30.0", latest_version())
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
KAFKATOPIC_SCHEMA = json.loads((Path(__file__).parent / "kafkatopic.schema.json").read_text())
WORKLOAD_KINDS = {"Deployment", "StatefulSet"}

GRPC_SERVICES = ("actions", "handoff", "forecast", "coaching", "audit", "pulse")
EXPECTED_WORKLOADS = {
    ("Deployment", "gateway"): ["python", "-m", "services.gateway"],
    ("Deployment", "actions"): ["python", "-m", "services.actions", "grpc"],
    ("StatefulSet", "actions-worker"): ["python", "-m", "services.actions", "worker"],
    ("Deployment", "actions-reporting"): ["python", "-m", "services.actions", "reporting"],
    ("Deployment", "handoff"): ["python", "-m", "services.handoff"],
    ("Deployment", "forecast"): ["python", "-m", "services.forecast"],
    ("Deployment", "coaching"): ["python", "-m", "services.coaching"],
    ("Deployment", "audit"): ["python", "-m", "services.audit"],
    ("Deployment", "audit-worker"): ["python", "-m", "services.audit", "worker"],
    ("Deployment", "pulse"): ["python", "-m", "services.pulse", "grpc"],
    ("Deployment", "pulse-worker"): ["python", "-m", "services.pulse", "worker"],
}
CONFIGMAP = "dealpulse-config"
AUTH_SECRET, AUTH_KEY = "dealpulse-auth", "jwt-secret"
CONFIG_KEYS = {
    "DEALPULSE_ENVIRONMENT",
    "DEALPULSE_KAFKA_BOOTSTRAP",
    "DEALPULSE_REDIS_URL",
    "DEALPULSE_KAFKA_REPLICATION_FACTOR",
    "DEALPULSE_ACTIONS_ADDR",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
}


# --------------------------------------------------------------------------- helpers


def yaml_files(folder: Path = K8S) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def _where(path) -> str:
    return "/" + "/".join(str(p) for p in path)


def validate_document(doc: dict) -> list[str]:
    """Schema errors of one manifest (empty when valid)."""
    if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
        return ["not a Kubernetes object (apiVersion and kind are required)"]
    kind, api = doc["kind"], doc["apiVersion"]
    if kind in KUSTOMIZE_KINDS:
        return [] if api.startswith("kustomize.config.k8s.io/") else [f"{kind} with apiVersion {api}"]
    if api.startswith("kafka.strimzi.io/"):
        validator = jsonschema.Draft202012Validator(KAFKATOPIC_SCHEMA)
        return [f"KafkaTopic: {e.message} at {_where(e.absolute_path)}" for e in validator.iter_errors(doc)]
    errors = []
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"Kubernetes {version}: {e.message} at {_where(e.absolute_path)}")
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(e.message)
    return errors


def _probes(container: dict) -> dict[str, dict]:
    return {k: container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in container}


def policy_errors(doc: dict) -> list[str]:
    """What a Deployment/StatefulSet breaks of our hardening and wiring rules."""
    errors: list[str] = []
    name = doc["metadata"]["name"]
    spec = doc["spec"]
    template = spec["template"]
    pod = template["spec"]
    labels = template.get("metadata", {}).get("labels", {})
    if labels.get("app.kubernetes.io/name") != name:
        errors.append(f"{name}: pod label app.kubernetes.io/name must be {name!r}")
    if labels.get("app.kubernetes.io/part-of") != "dealpulse":
        errors.append(f"{name}: pod label app.kubernetes.io/part-of must be 'dealpulse'")
    selector = spec.get("selector", {}).get("matchLabels", {})
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        errors.append(f"{name}: selector.matchLabels must be a non-empty subset of the pod labels")
    if pod.get("automountServiceAccountToken") is not False:
        errors.append(f"{name}: pod automountServiceAccountToken must be false")
    if pod.get("serviceAccountName") in (None, "", "default"):
        errors.append(f"{name}: needs its own serviceAccountName")
    if pod.get("terminationGracePeriodSeconds", 30) < 30:
        errors.append(f"{name}: terminationGracePeriodSeconds below 30 cuts the graceful drain")
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        errors.append(f"{name}: pod securityContext.runAsNonRoot must be true")
    if not psc.get("runAsUser"):
        errors.append(f"{name}: pod securityContext.runAsUser must be a non-zero uid")
    if "fsGroup" not in psc:
        errors.append(f"{name}: pod securityContext.fsGroup must be set")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        errors.append(f"{name}: pod seccompProfile must be RuntimeDefault")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    if not pod.get("containers"):
        errors.append(f"{name}: no containers")
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        cname = f"{name}/{c['name']}"
        probes = _probes(c)
        for required in ("readinessProbe", "livenessProbe"):
            if required not in probes:
                errors.append(f"{cname}: missing {required}")
        resources = c.get("resources", {})
        for section in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in resources.get(section, {}):
                    errors.append(f"{cname}: missing resources.{section}.{res}")
        csc = c.get("securityContext", {})
        if csc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{cname}: allowPrivilegeEscalation must be false")
        if csc.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{cname}: readOnlyRootFilesystem must be true")
        if "ALL" not in csc.get("capabilities", {}).get("drop", []):
            errors.append(f"{cname}: capabilities.drop must include ALL")
        if csc.get("privileged"):
            errors.append(f"{cname}: must not be privileged")
        if csc.get("runAsUser") == 0 or csc.get("runAsNonRoot") is False:
            errors.append(f"{cname}: must not run as root")
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        tmp = volumes.get(mounts.get("/tmp", ""), {})
        if "emptyDir" not in tmp:
            errors.append(f"{cname}: read-only root needs an emptyDir mounted at /tmp")
        for mount_name in mounts.values():
            if mount_name not in volumes and mount_name not in claims:
                errors.append(f"{cname}: mounts undeclared volume {mount_name!r}")
        image = c.get("image", "")
        if image.rsplit("/", 1)[-1].split(":")[0] != "dealpulse":
            errors.append(f"{cname}: image must be dealpulse[:tag] (overlays set the tag), not {image!r}")
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if "grpc" in ports:
            for kind in ("readinessProbe", "livenessProbe"):
                probe = probes.get(kind, {})
                if probe.get("grpc", {}).get("port") != ports["grpc"]:
                    errors.append(f"{cname}: gRPC server needs a native grpc {kind} on {ports['grpc']}")
        for kind, probe in probes.items():
            port = (probe.get("httpGet") or probe.get("grpc") or probe.get("tcpSocket") or {}).get("port")
            if isinstance(port, str) and port not in ports:
                errors.append(f"{cname}: {kind} uses unknown named port {port!r}")
            if isinstance(port, int) and port not in ports.values():
                errors.append(f"{cname}: {kind} probes port {port}, which the container does not expose")
        refs = [r.get("configMapRef", {}).get("name", "") for r in c.get("envFrom", [])]
        if not any(r == CONFIGMAP or r.startswith(CONFIGMAP + "-") for r in refs):
            errors.append(f"{cname}: envFrom must include ConfigMap {CONFIGMAP}")
        env = {e["name"]: e for e in c.get("env", [])}
        secret = env.get("DEALPULSE_JWT_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {})
        if (secret.get("name"), secret.get("key")) != (AUTH_SECRET, AUTH_KEY):
            errors.append(f"{cname}: DEALPULSE_JWT_SECRET must come from Secret {AUTH_SECRET}/{AUTH_KEY}")
        for env_name, e in env.items():
            if any(w in env_name for w in ("SECRET", "PASSWORD", "TOKEN")) and "value" in e:
                errors.append(f"{cname}: {env_name} has a literal value; use a Secret")
    return errors


def workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d.get("kind") in WORKLOAD_KINDS]


def base_docs() -> list[dict]:
    return [d for f in yaml_files(BASE) for d in load_docs(f)]


# --------------------------------------------------------------------------- every file


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_document_is_schema_valid(path: Path) -> None:
    docs = load_docs(path)
    assert docs, f"{path} holds no YAML document"
    errors = [f"{d.get('kind')}/{d.get('metadata', {}).get('name')}: {e}" for d in docs for e in validate_document(d)]
    assert not errors, "\n".join(errors)


def test_validator_rejects_broken_manifests() -> None:
    deployment = next(d for d in load_docs(BASE / "gateway.yaml") if d["kind"] == "Deployment")
    assert validate_document(deployment) == []

    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert any("imagePullPolcy" in e for e in validate_document(typo))

    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    assert any("replicas" in e for e in validate_document(wrong_type))

    missing = copy.deepcopy(deployment)
    del missing["spec"]["selector"]
    assert any("selector" in e for e in validate_document(missing))

    assert validate_document({"apiVersion": "v1", "kind": "Deplyoment", "metadata": {"name": "x"}})

    topic = load_docs(BASE / "topics" / "actions.opportunity.v1.yaml")[0]
    assert validate_document(topic) == []
    for mutate in (
        lambda t: t["spec"].update(partitions=0),
        lambda t: t["spec"].pop("topicName"),
        lambda t: t["metadata"]["labels"].pop("strimzi.io/cluster"),
        lambda t: t["spec"].update(replica=3),
        lambda t: t["spec"]["config"].update({"retention.ms": "forever"}),
        lambda t: t["metadata"].update(name="Actions_Opportunity"),
    ):
        broken = copy.deepcopy(topic)
        mutate(broken)
        assert validate_document(broken), f"accepted a broken KafkaTopic: {broken['spec']}"


def test_no_secret_values_are_shipped() -> None:
    secrets = [f for f in yaml_files() for d in load_docs(f) if d.get("kind") == "Secret"]
    assert not secrets, f"Secrets are created per installation, never shipped: {secrets}"
    for path in yaml_files():
        for doc in load_docs(path):
            if doc.get("kind") in KUSTOMIZE_KINDS:
                assert not doc.get("secretGenerator"), f"{path}: no secretGenerator with values"


# --------------------------------------------------------------------------- workloads


def test_base_has_exactly_the_expected_workloads() -> None:
    found = {(d["kind"], d["metadata"]["name"]): d for d in workloads(base_docs())}
    assert set(found) == set(EXPECTED_WORKLOADS)
    for key, command in EXPECTED_WORKLOADS.items():
        containers = found[key]["spec"]["template"]["spec"]["containers"]
        assert containers[0]["command"] == command, key
        assert containers[0]["image"] == "dealpulse:latest", key


@pytest.mark.parametrize("doc", workloads(base_docs()), ids=lambda d: d["metadata"]["name"])
def test_workload_is_hardened_and_wired(doc: dict) -> None:
    assert policy_errors(doc) == []


def test_policy_rejects_weak_workloads() -> None:
    deployment = next(d for d in load_docs(BASE / "handoff.yaml") if d["kind"] == "Deployment")
    assert policy_errors(deployment) == []

    def broken(mutate) -> list[str]:
        d = copy.deepcopy(deployment)
        mutate(d["spec"]["template"]["spec"], d["spec"]["template"]["spec"]["containers"][0])
        return policy_errors(d)

    assert any("livenessProbe" in e for e in broken(lambda p, c: c.pop("livenessProbe")))
    assert any("limits.memory" in e for e in broken(lambda p, c: c["resources"]["limits"].pop("memory")))
    assert any("runAsNonRoot" in e for e in broken(lambda p, c: p["securityContext"].pop("runAsNonRoot")))
    assert any(
        "readOnlyRootFilesystem" in e
        for e in broken(lambda p, c: c["securityContext"].update(readOnlyRootFilesystem=False))
    )
    assert any("drop" in e for e in broken(lambda p, c: c["securityContext"]["capabilities"].update(drop=["NET_RAW"])))
    assert any(
        "grpc readinessProbe" in e for e in broken(lambda p, c: c.update(readinessProbe={"tcpSocket": {"port": 50051}}))
    )
    assert any("seccomp" in e for e in broken(lambda p, c: p["securityContext"].pop("seccompProfile")))
    assert any("/tmp" in e for e in broken(lambda p, c: c.pop("volumeMounts")))
    assert any("literal value" in e for e in broken(lambda p, c: c["env"].append({"name": "X_TOKEN", "value": "abc"})))
    assert any("automount" in e for e in broken(lambda p, c: p.pop("automountServiceAccountToken")))


def test_grpc_workloads_use_native_grpc_probes() -> None:
    found = {d["metadata"]["name"]: d for d in workloads(base_docs())}
    for name in GRPC_SERVICES:
        container = found[name]["spec"]["template"]["spec"]["containers"][0]
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"grpc": 50051}
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[kind]["grpc"] == {"port": 50051}, f"{name} {kind}"


def test_gateway_http_probes() -> None:
    gateway = next(d for d in workloads(base_docs()) if d["metadata"]["name"] == "gateway")
    c = gateway["spec"]["template"]["spec"]["containers"][0]
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_actions_worker_statefulset() -> None:
    docs = load_docs(BASE / "actions.yaml")
    sts = next(d for d in docs if d["kind"] == "StatefulSet")
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert mounts[claim["metadata"]["name"]] == "/var/lib/dealpulse" == env["DEALPULSE_FAUST_DATA_DIR"]
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"web": 6066}
    assert env["DEALPULSE_FAUST_WEB_PORT"] == "6066"
    assert c["livenessProbe"]["httpGet"] == {"path": "/", "port": "web"}
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, "table recovery needs minutes"
    assert pod["terminationGracePeriodSeconds"] >= 60
    assert c["resources"]["limits"]["memory"] != "512Mi", "the Faust worker gets more memory"
    headless = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == spec["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize(
    ("file", "name", "web_port"),
    [("audit.yaml", "audit-worker", 6067), ("actions.yaml", "actions-reporting", 6069)],
)
def test_stateless_faust_worker_deployment(file: str, name: str, web_port: int) -> None:
    docs = load_docs(BASE / file)
    worker = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    pod_spec = worker["spec"]["template"]["spec"]
    c = pod_spec["containers"][0]
    env = {e["name"]: e.get("value") for e in c["env"]}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"web": web_port}
    assert env["DEALPULSE_FAUST_WEB_PORT"] == str(web_port)
    # The root filesystem is read-only: Faust's data directory needs a writable mount.
    assert mounts["data"] == env["DEALPULSE_FAUST_DATA_DIR"] and "emptyDir" in volumes["data"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "web"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/", "port": "web"}
    assert pod_spec["terminationGracePeriodSeconds"] >= 60
    headless = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == name)
    assert headless["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("path", [p for p in yaml_files(BASE) if p.name != "kustomization.yaml"], ids=lambda p: p.name)
def test_each_workload_file_has_service_account_and_service(path: Path) -> None:
    docs = load_docs(path)
    accounts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ServiceAccount"}
    services = [d for d in docs if d["kind"] == "Service"]
    for workload in workloads(docs):
        pod = workload["spec"]["template"]["spec"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        account = accounts.get(pod["serviceAccountName"])
        assert account is not None, f"{path.name}: no ServiceAccount {pod['serviceAccountName']}"
        assert account["automountServiceAccountToken"] is False
        port_names = {p.get("name") for c in pod["containers"] for p in c.get("ports", [])}
        selecting = [s for s in services if all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]
        assert len(selecting) == 1, f"{path.name}: {workload['metadata']['name']} needs exactly one Service"
        service = selecting[0]
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, f"{service['metadata']['name']}: targetPort {port['targetPort']}"
        if workload["kind"] == "StatefulSet":
            assert workload["spec"]["serviceName"] == service["metadata"]["name"]


def test_gateway_and_grpc_services_ports() -> None:
    services = {d["metadata"]["name"]: d for d in base_docs() if d["kind"] == "Service"}
    assert [(p["port"], p["targetPort"]) for p in services["gateway"]["spec"]["ports"]] == [(80, "http")]
    for name in GRPC_SERVICES:
        ports = services[name]["spec"]["ports"]
        assert [(p["name"], p["port"], p["targetPort"]) for p in ports] == [("grpc", 50051, "grpc")]


def test_base_config_map_has_the_shared_settings() -> None:
    kustomization = load_docs(BASE / "kustomization.yaml")[0]
    generator = next(g for g in kustomization["configMapGenerator"] if g["name"] == CONFIGMAP)
    literals = dict(item.split("=", 1) for item in generator["literals"])
    assert CONFIG_KEYS <= set(literals)
    assert literals["DEALPULSE_KAFKA_REPLICATION_FACTOR"] == "3"
    assert literals["DEALPULSE_ACTIONS_ADDR"] == "actions:50051"
    assert "DEALPULSE_JWT_SECRET" not in literals


# --------------------------------------------------------------------------- kustomize layout


def kustomization_files() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def references(path: Path) -> list[str]:
    doc = load_docs(path)[0]
    return list(doc.get("resources", [])) + list(doc.get("components", []))


def resolve_tree(kustomization_dir: Path, _seen: tuple[Path, ...] = ()) -> list[Path]:
    """Every file an overlay pulls in through resources/components, recursively.

    A stand-in for `kustomize build` that only follows references (no patches, no
    generators): enough to prove the layout is complete.
    """
    kustomization_dir = kustomization_dir.resolve()
    if kustomization_dir in _seen:
        raise ValueError(f"cycle: {' -> '.join(str(p) for p in _seen + (kustomization_dir,))}")
    k_file = kustomization_dir / "kustomization.yaml"
    if not k_file.is_file():
        raise FileNotFoundError(f"{kustomization_dir} has no kustomization.yaml")
    files = [k_file]
    doc = load_docs(k_file)[0]
    for ref in doc.get("resources", []) + doc.get("components", []):
        target = (kustomization_dir / ref).resolve()
        if target.is_dir():
            files += resolve_tree(target, _seen + (kustomization_dir,))
        elif target.is_file():
            files.append(target)
        else:
            raise FileNotFoundError(f"{k_file}: {ref} does not exist")
    for patch in doc.get("patches", []):
        if "path" in patch:
            target = (kustomization_dir / patch["path"]).resolve()
            if not target.is_file():
                raise FileNotFoundError(f"{k_file}: patch {patch['path']} does not exist")
            files.append(target)
    return files


@pytest.mark.parametrize("path", kustomization_files(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_kustomization_lists_existing_files_and_no_orphans(path: Path) -> None:
    folder = path.parent
    missing = [r for r in references(path) if not (folder / r).exists()]
    assert not missing, f"{path}: listed but missing: {missing}"
    listed = {(folder / r).resolve() for r in references(path)}
    patches = {(folder / p["path"]).resolve() for p in load_docs(path)[0].get("patches", []) if "path" in p}
    orphans = [
        p.name for p in yaml_files(folder) if p.parent == folder and p != path and p.resolve() not in listed | patches
    ]
    assert not orphans, f"{path}: YAML files nobody includes: {orphans}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_references_resolve(overlay: str) -> None:
    files = set(resolve_tree(K8S / "overlays" / overlay))
    assert (BASE / "gateway.yaml").resolve() in files
    assert (BASE / "topics" / "kustomization.yaml").resolve() in files
    policies = (K8S / "components" / "network-policies" / "deny-all.yaml").resolve()
    assert (policies in files) is (overlay == "prod")


def test_reference_loader_catches_missing_files_and_cycles(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "kustomization.yaml").write_text("resources: [x.yaml, ../b]\n")
    (tmp_path / "a" / "x.yaml").write_text("kind: ConfigMap\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "kustomization.yaml").write_text("resources: [gone.yaml]\n")
    with pytest.raises(FileNotFoundError, match="gone.yaml"):
        resolve_tree(tmp_path / "a")
    (tmp_path / "b" / "kustomization.yaml").write_text("components: [../a]\n")
    with pytest.raises(ValueError, match="cycle"):
        resolve_tree(tmp_path / "a")


# --------------------------------------------------------------------------- NetworkPolicy


def _selects(selector: dict, labels: dict) -> bool:
    for k, v in selector.get("matchLabels", {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _port_ok(rule: dict, port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def _peer_ok(peers: list[dict] | None, labels: dict | None) -> bool:
    """`labels` None = an address outside the namespace's pods (Kafka, Redis, a client)."""
    if peers is None:
        return True
    for peer in peers:
        pod_peer = "podSelector" in peer and "namespaceSelector" not in peer
        if pod_peer and labels is not None and _selects(peer["podSelector"], labels):
            return True
        if "ipBlock" in peer and labels is None:
            return True
    return False


def allowed(policies: list[dict], src: dict | None, dst: dict | None, port: int, protocol: str = "TCP") -> bool:
    """Would NetworkPolicy let `src` pod (labels) reach `dst` pod on port? None = outside."""

    def direction(kind: str, own: dict | None, other: dict | None, rules_key: str, peers_key: str) -> bool:
        if own is None:
            return True
        selecting = [
            p for p in policies if _selects(p["spec"]["podSelector"], own) and kind in p["spec"]["policyTypes"]
        ]
        if not selecting:
            return True
        return any(
            _peer_ok(rule.get(peers_key), other) and _port_ok(rule, port, protocol)
            for p in selecting
            for rule in p["spec"].get(rules_key, [])
        )

    return direction("Egress", src, dst, "egress", "to") and direction("Ingress", dst, src, "ingress", "from")


def pod(name: str) -> dict:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "dealpulse"}


def network_policies() -> list[dict]:
    folder = K8S / "components" / "network-policies"
    return [d for f in yaml_files(folder) for d in load_docs(f) if d["kind"] == "NetworkPolicy"]


def test_network_policies_allow_exactly_the_intended_paths() -> None:
    policies = network_policies()
    deny_all = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny_all and set(deny_all[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}

    outside = None
    assert allowed(policies, outside, pod("gateway"), 8080)
    assert not allowed(policies, outside, pod("gateway"), 9090)
    for svc in GRPC_SERVICES:
        assert allowed(policies, pod("gateway"), pod(svc), 50051), svc
        assert not allowed(policies, outside, pod(svc), 50051), svc
        assert not allowed(policies, pod("actions-worker"), pod(svc), 50051), svc
    assert not allowed(policies, pod("handoff"), pod("actions"), 50051)
    assert not allowed(policies, pod("gateway"), pod("actions-worker"), 6066)
    # audit answers the gateway and the services whose writes it decides; its worker takes no traffic.
    assert allowed(policies, pod("actions"), pod("audit"), 50051)
    assert not allowed(policies, pod("pulse"), pod("audit"), 50051)
    assert not allowed(policies, pod("gateway"), pod("audit-worker"), 6067)
    assert not allowed(policies, pod("audit-worker"), pod("actions"), 50051)
    assert not allowed(policies, outside, pod("actions-worker"), 6066)
    assert not allowed(policies, outside, pod("actions-reporting"), 6069)
    everyone = ("gateway", "actions-worker", "actions-reporting", "audit-worker", "pulse-worker") + GRPC_SERVICES
    for name in everyone:
        for port, proto in ((53, "UDP"), (53, "TCP"), (9092, "TCP"), (6379, "TCP"), (4317, "TCP")):
            assert allowed(policies, pod(name), outside, port, proto), (name, port, proto)
        assert not allowed(policies, pod(name), outside, 5432), name
    # Only the reporting worker delivers notifications: HTTPS to the robot webhooks, SMTP.
    for name in everyone:
        for port in (443, 25, 587, 465):
            assert allowed(policies, pod(name), outside, port) == (name == "actions-reporting"), (name, port)
    # A pod that is not ours, dropped into the namespace, is cut off both ways.
    stranger = {"app": "stranger"}
    assert not allowed(policies, stranger, outside, 9092)
    assert not allowed(policies, outside, stranger, 80)
    # ... and the evaluator itself is not vacuous: without the policies everything flows.
    assert allowed([], pod("handoff"), pod("actions"), 50051)


# --------------------------------------------------------------------------- kustomize build


def find_kustomize() -> str | None:
    """$KUSTOMIZE (the Makefile's pinned build), else PATH, else the Go bin directories."""
    candidates = [os.environ.get("KUSTOMIZE", ""), shutil.which("kustomize") or ""]
    candidates += [str(p) for p in sorted((ROOT / ".cache").glob("kustomize-*/kustomize"), reverse=True)]
    gopaths = [os.environ.get("GOPATH", "")]
    if shutil.which("go"):
        out = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=False)
        gopaths.append(out.stdout.strip())
    gopaths.append(str(Path.home() / "go"))
    candidates += [str(Path(e) / "bin" / "kustomize") for g in filter(None, gopaths) for e in g.split(os.pathsep)]
    for candidate in filter(None, candidates):
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@cache
def kustomize_build(overlay: str) -> tuple[dict, ...]:
    binary = find_kustomize()
    if binary is None:
        pytest.fail(
            "kustomize not found on PATH or in $(go env GOPATH)/bin; install it with\n"
            f"  {KUSTOMIZE_INSTALL}\n(or `make kustomize`, which puts the pinned build in .cache/)",
            pytrace=False,
        )
    result = subprocess.run(
        [binary, "build", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kustomize build {overlay} failed:\n{result.stderr}"
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d is not None)


def by_kind(docs, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_valid_hardened_manifests(overlay: str) -> None:
    docs = kustomize_build(overlay)
    errors = [f"{d['kind']}/{d['metadata']['name']}: {e}" for d in docs for e in validate_document(d)]
    assert not errors, "\n".join(errors)
    rendered_workloads = workloads(list(docs))
    assert {(d["kind"], d["metadata"]["name"]) for d in rendered_workloads} == set(EXPECTED_WORKLOADS)
    for doc in rendered_workloads:
        assert policy_errors(doc) == []
    assert not by_kind(docs, "Secret")
    assert not [d for d in docs if d.get("metadata", {}).get("namespace")], "base and overlays stay namespace-agnostic"

    # The generated ConfigMap (hash-suffixed) is the one every pod reads.
    configmaps = [n for n in by_kind(docs, "ConfigMap") if n.startswith(CONFIGMAP + "-")]
    assert len(configmaps) == 1, configmaps
    config = by_kind(docs, "ConfigMap")[configmaps[0]]["data"]
    assert CONFIG_KEYS <= set(config)
    for doc in rendered_workloads:
        refs = {r["configMapRef"]["name"] for c in doc["spec"]["template"]["spec"]["containers"] for r in c["envFrom"] if "configMapRef" in r}
        assert refs == {configmaps[0]}, doc["metadata"]["name"]

    topics = by_kind(docs, "KafkaTopic")
    from kernel.topics import all_topics

    assert set(topics) == {t.name for t in all_topics()}

    # PodDisruptionBudgets select real pods.
    for pdb in by_kind(docs, "PodDisruptionBudget").values():
        selector = pdb["spec"]["selector"]
        assert any(_selects(selector, w["spec"]["template"]["metadata"]["labels"]) for w in rendered_workloads)

    images = {c["image"] for w in rendered_workloads for c in w["spec"]["template"]["spec"]["containers"]}
    replicas = {w["metadata"]["name"]: w["spec"]["replicas"] for w in rendered_workloads}
    topic_replicas = {t["spec"]["replicas"] for t in topics.values()}
    min_insync = {t["spec"]["config"]["min.insync.replicas"] for t in topics.values()}
    if overlay == "dev":
        assert images == {"dealpulse:dev"}
        assert set(replicas.values()) == {1}
        assert config["DEALPULSE_KAFKA_REPLICATION_FACTOR"] == "1"
        assert (topic_replicas, min_insync) == ({1}, {"1"})
        assert not by_kind(docs, "NetworkPolicy")
    else:
        assert images == {"dealpulse:prod"}
        assert replicas == {name: 1 if name == "actions-worker" else 2 for (_, name) in EXPECTED_WORKLOADS}
        assert config["DEALPULSE_KAFKA_REPLICATION_FACTOR"] == "3"
        assert config["DEALPULSE_ENVIRONMENT"] == "production"
        assert (topic_replicas, min_insync) == ({3}, {"2"})
        assert set(by_kind(docs, "PodDisruptionBudget")) == {n for k, n in EXPECTED_WORKLOADS if k == "Deployment"}
        policies = list(by_kind(docs, "NetworkPolicy").values())
        assert allowed(policies, pod("gateway"), pod("actions"), 50051)
        assert not allowed(policies, pod("audit"), pod("actions"), 50051)
