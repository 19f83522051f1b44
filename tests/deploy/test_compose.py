"""deploy/compose.yaml: `docker compose config` where the compose plugin is
installed; everywhere, a check of its structure: PostgreSQL, an S3 service, two
app replicas behind the proxy whose upstream names them both, healthchecks and
the order they start in, volumes, no secret written into the file, the replicas
believing `X-Forwarded-For` from the proxy's fixed address only, and their
metrics behind the token Prometheus sends."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from deploy_files import COMPOSE, DEPLOY, NGINX_CONF, parse_nginx

from photochanger.config import ENV_PREFIX, Settings

PLACEHOLDERS = {
    "POSTGRES_PASSWORD": "placeholder-password",
    "PUBLIC_BASE_URL": "https://booth.example.com",
    "PHOTOCHANGER_JWT_SECRET": "x" * 40,
    "S3_ACCESS_KEY": "placeholder-key",
    "S3_SECRET_KEY": "placeholder-secret",
    "PHOTOCHANGER_METRICS_TOKEN": "m" * 40,
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|TOKEN|API_KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}")
ONE_SHOT = {"migrate", "s3-bucket"}
PINNED = re.compile(
    r"@sha256:[0-9a-f]{64}$"  # a digest
    r"|:\d+\.\d+[.\d]*(-[a-z0-9]+)?$"  # 15.13-bookworm, 1.28.0
    r"|:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$"  # MinIO's release names
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run `photochanger serve`."""
    return {
        name: service
        for name, service in services(compose).items()
        if service.get("command", [])[:2] == ["photochanger", "serve"]
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    values = service.get("environment", {})
    assert isinstance(values, dict), "environment as a mapping"
    return {name: str(value) for name, value in values.items()}


def test_postgresql_s3_and_two_replicas_behind_the_proxy(compose: dict[str, Any]) -> None:
    every = services(compose)
    assert every["db"]["image"].startswith("postgres:15")
    assert every["s3"]["image"].startswith("minio/minio:")
    assert every["proxy"]["image"].startswith("nginx:")
    apps = replicas(compose)
    assert len(apps) == 2
    for service in apps.values():
        assert service["command"][2:] == ["--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
        assert "ports" not in service, "only the proxy is published"
    names = [environment(service)["PHOTOCHANGER_INSTANCE_ID"] for service in apps.values()]
    assert sorted(names) == sorted(apps), "each replica has a stable name of its own"

    # The proxy's upstream names exactly the replicas, on the port they serve.
    (upstream,) = parse_nginx(NGINX_CONF.read_text()).children("upstream")
    servers = {args[0] for args in upstream.values("server")}
    assert servers == {f"{name}:8000" for name in apps}
    mounts = every["proxy"]["volumes"]
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in mounts
    assert {"80:80", "443:443"} <= set(every["proxy"]["ports"])


def test_the_replicas_share_postgresql_and_the_bucket(compose: dict[str, Any]) -> None:
    field_variables = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    for name, service in [*replicas(compose).items(), ("migrate", services(compose)["migrate"])]:
        env = environment(service)
        assert env["PHOTOCHANGER_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@db:5432/" in env["PHOTOCHANGER_DATABASE_URL"]
        assert env["PHOTOCHANGER_MEDIA_STORE"] == "s3"
        assert env["PHOTOCHANGER_S3_ENDPOINT_URL"] == "http://s3:9000"
        assert env["PHOTOCHANGER_ENVIRONMENT"] == "production"
        unknown = {
            variable
            for variable in env
            if variable.startswith(ENV_PREFIX) and variable not in field_variables
        }
        assert not unknown, f"{name} sets variables no setting reads: {unknown}"
        # Settings accept the values (placeholders for the secrets).
        values = {
            variable: INTERPOLATION.sub(_placeholder, value)
            for variable, value in env.items()
            if variable.startswith(ENV_PREFIX)
        }
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            **{variable.removeprefix(ENV_PREFIX).lower(): v for variable, v in values.items()},
        )
        assert settings.media_store == "s3"
        assert settings.s3_path_style


def _placeholder(found: re.Match[str]) -> str:
    """What compose puts for `${NAME}`, `${NAME:?why}` or `${NAME:-default}`."""
    name, operator, rest = re.fullmatch(r"\$\{([A-Z0-9_]+)(:?[-?])?(.*)\}", found.group(0)).groups()  # type: ignore[union-attr]
    if name in PLACEHOLDERS:
        return PLACEHOLDERS[name]
    assert operator in (":-", "-"), f"{name} must be set, and the test has no placeholder"
    return str(rest)


def trusting_everyone(text: str) -> list[str]:
    """The lines that set a `…FORWARDED_ALLOW_IPS` to `*` or a list holding it
    (`*name`, a YAML alias, is not one)."""
    found = []
    for line in text.splitlines():
        setting = re.search(r"FORWARDED_ALLOW_IPS[\"']?\s*[:=](.*)", line.split("#", 1)[0])
        if setting and "*" in {item.strip(" \"'") for item in setting.group(1).split(",")}:
            found.append(line)
    return found


def test_no_sender_is_trusted_blindly(compose: dict[str, Any]) -> None:
    """`*` would make uvicorn take the leftmost `X-Forwarded-For` entry, which
    the guest writes; uvicorn's own variable is not read by `serve` at all."""
    assert not trusting_everyone(COMPOSE.read_text())
    for name, service in services(compose).items():
        for variable, value in environment(service).items():
            if "FORWARDED" in variable:
                assert "*" not in value, f"{name}: {variable}={value}"
            assert variable != "FORWARDED_ALLOW_IPS", f"{name}: `serve` ignores {variable}"


def test_the_replicas_trust_only_the_proxy(compose: dict[str, Any]) -> None:
    (network,) = compose["networks"]["default"]["ipam"]["config"]
    subnet = ipaddress.ip_network(network["subnet"])
    proxy = services(compose)["proxy"]
    address = ipaddress.ip_address(proxy["networks"]["default"]["ipv4_address"])
    assert address in subnet, "the proxy's fixed address is on the pinned subnet"
    for name, service in replicas(compose).items():
        trusted = environment(service)["PHOTOCHANGER_FORWARDED_ALLOW_IPS"]
        assert trusted == str(address), f"{name} trusts {trusted}, not only the proxy"
        assert "networks" not in service, f"{name}: only on the network the proxy is fixed on"


def test_the_replicas_metrics_need_the_token(compose: dict[str, Any]) -> None:
    for name, service in replicas(compose).items():
        env = environment(service)
        assert env["PHOTOCHANGER_METRICS_ACCESS"] == "token", name
        token = env["PHOTOCHANGER_METRICS_TOKEN"]
        assert token.startswith("${PHOTOCHANGER_METRICS_TOKEN:?"), f"{name}: required"
    # The example Prometheus scrapes the replicas with a bearer token.
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {f"{name}:8000" for name in replicas(compose)}
    (job,) = [
        job
        for job in prometheus["scrape_configs"]
        if targets <= {t for c in job.get("static_configs", []) for t in c["targets"]}
    ]
    authorization = job["authorization"]
    assert authorization.get("type", "Bearer") == "Bearer"
    assert authorization.get("credentials") or authorization.get("credentials_file")


def test_services_start_in_order_and_report_their_health(compose: dict[str, Any]) -> None:
    every = services(compose)
    for name, service in every.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
        else:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert service["restart"] == "unless-stopped"

    def waits_for(name: str) -> dict[str, str]:
        return {
            other: condition["condition"]
            for other, condition in every[name].get("depends_on", {}).items()
        }

    assert waits_for("migrate") == {"db": "service_healthy"}
    assert waits_for("s3-bucket") == {"s3": "service_healthy"}
    for name in replicas(compose):
        assert waits_for(name) == {
            "migrate": "service_completed_successfully",
            "s3-bucket": "service_completed_successfully",
        }
        assert "/readyz" in " ".join(every[name]["healthcheck"]["test"])
    assert waits_for("proxy") == dict.fromkeys(replicas(compose), "service_healthy")


def test_named_volumes_are_declared_and_data_persists(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for service in services(compose).values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/", "$")):
                used.add(source)
    assert used == declared
    assert "pgdata:/var/lib/postgresql/data" in services(compose)["db"]["volumes"]
    assert "s3data:/data" in services(compose)["s3"]["volumes"]


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if "build" in service:
            continue  # built here from deploy/Dockerfile, whose base is pinned
        image = service["image"]
        assert PINNED.search(image), f"{name}: {image} is not an exact version"


def test_no_secret_is_written_into_the_file(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for variable, value in environment(service).items():
            if SECRET_NAME.search(variable):
                assert INTERPOLATION.fullmatch(value), f"{name}: {variable} is written in"
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                assert INTERPOLATION.fullmatch(password), f"{name}: a password in {variable}"


def test_the_pin_check_can_fail() -> None:
    for loose in ("postgres:15", "nginx:latest", "nginx", "minio/minio:RELEASE.latest"):
        assert not PINNED.search(loose), loose


def test_the_secret_check_can_fail() -> None:
    assert INTERPOLATION.fullmatch("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}")
    assert not INTERPOLATION.fullmatch("hunter2")
    assert not INTERPOLATION.fullmatch("${A}hunter2")


def test_the_trust_check_can_fail() -> None:
    for blind in (
        '  FORWARDED_ALLOW_IPS: "*"',
        "  PHOTOCHANGER_FORWARDED_ALLOW_IPS: '*'",
        "  - PHOTOCHANGER_FORWARDED_ALLOW_IPS=10.0.0.1, *",
    ):
        assert trusting_everyone(blind) == [blind]
    for fine in (
        "  PHOTOCHANGER_FORWARDED_ALLOW_IPS: *proxy-address",
        "  PHOTOCHANGER_FORWARDED_ALLOW_IPS: 172.30.57.10  # never *",
    ):
        assert not trusting_everyone(fine)


def _compose_plugin() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    return docker if probe.returncode == 0 else None


def test_docker_compose_config_accepts_the_file(tmp_path: Any) -> None:
    docker = _compose_plugin()
    if docker is None:
        pytest.skip(
            "the docker compose plugin is not installed here; the structure tests above "
            "check the file instead"
        )
    checked = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **PLACEHOLDERS},
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
