"""deploy/nginx.conf, checked by nginx itself: `nginx -t` on the file as shipped
(only the certificate, the listening ports and the upstream addresses rendered
for this machine, with a self-signed certificate made here), then a real nginx
with it in front of two `photochanger serve` processes: photos as large as the
app takes reach the app, larger ones stop at the proxy, and both replicas serve;
`/metrics` is not served through it, and a guest cannot name its own address
in `X-Forwarded-For` (the login lockout counts the address it connects from)."""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from annotated_types import Le
from deploy_files import NGINX_CONF, nginx_bytes, nginx_seconds, parse_nginx, tls_server
from fastapi import FastAPI
from sqlalchemy import select

from conftest import LiveServer, start_live_server
from photochanger.cli import KEEP_ALIVE_SECONDS
from photochanger.config import GLOBAL_UPLOAD_CAP_MB, MB, Settings
from photochanger.models import Job, LoginFailure
from photochanger.multipart import MULTIPART_OVERHEAD_BYTES
from photochanger.settings.schemas import RuntimeSettings
from support import (
    SessionFactory,
    booth_fields,
    configure_slot,
    echo,
    free_port,
    make_image,
    required_tool,
)

CERTIFICATE = "/etc/letsencrypt/live/booth.example.com/fullchain.pem"
PRIVATE_KEY = "/etc/letsencrypt/live/booth.example.com/privkey.pem"
UPSTREAMS = ("app-1:8000", "app-2:8000")


def largest_sync_window() -> int:
    field = RuntimeSettings.model_fields["sync_response_seconds"]
    (bound,) = [item.le for item in field.metadata if isinstance(item, Le)]
    return int(bound)  # type: ignore[call-overload]


@dataclass
class Certificate:
    cert: Path
    key: Path

    def trusted(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made here."""
    openssl = required_tool("openssl")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


@dataclass
class Rendered:
    prefix: Path
    main: Path
    tls_port: int
    http_port: int


def render(prefix: Path, certificate: Certificate, upstreams: tuple[str, str]) -> Rendered:
    """deploy/nginx.conf with this machine's certificate, ports and upstreams,
    included from a main configuration whose pid, logs and temp files live in
    `prefix` (so nothing under /etc or /var is touched)."""
    tls_port, http_port = free_port(), free_port()
    text = NGINX_CONF.read_text()
    for old, new in (
        (CERTIFICATE, str(certificate.cert)),
        (PRIVATE_KEY, str(certificate.key)),
        ("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        (f"server {UPSTREAMS[0]} ", f"server {upstreams[0]} "),
        (f"server {UPSTREAMS[1]} ", f"server {upstreams[1]} "),
    ):
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
        text = text.replace(old, new)
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "photochanger.conf").write_text(text)
    # As root, nginx's workers would drop to `nobody`, who cannot enter pytest's
    # temp directories; only as root may (and must) `user` be given.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(
        f"    {kind}_temp_path {prefix / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = prefix / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\n"
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {prefix / 'access.log'};\n"
        f"{temp_paths}"
        f"    include {prefix / 'photochanger.conf'};\n"
        "}\n"
    )
    return Rendered(prefix, main, tls_port, http_port)


def nginx_command(nginx: str, rendered: Rendered, *extra: str) -> list[str]:
    return [
        nginx,
        "-p",
        str(rendered.prefix),
        "-c",
        str(rendered.main),
        "-e",
        str(rendered.prefix / "error.log"),
        *extra,
    ]


def test_the_proxy_settings_match_the_app() -> None:
    server = tls_server(parse_nginx(NGINX_CONF.read_text()))
    body_limit = nginx_bytes(server.value("client_max_body_size")[0])
    largest_accepted = GLOBAL_UPLOAD_CAP_MB * MB + MULTIPART_OVERHEAD_BYTES
    assert largest_accepted <= body_limit <= largest_accepted + 2 * MB
    assert server.value("proxy_request_buffering") == ["off"]
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        assert nginx_seconds(server.value(timeout)[0]) > largest_sync_window()
    locations = {" ".join(block.args): block for block in server.children("location")}
    assert set(locations) == {"/", "= /metrics"}
    location = locations["/"]
    headers = {args[0]: args[1] for args in location.values("proxy_set_header")}
    # The first hop replaces what the guest sent; appending would keep it.
    assert headers["X-Forwarded-For"] == "$remote_addr"
    assert headers["X-Request-Id"] == "$request_id"
    # Keep-alive to the replicas needs HTTP/1.1 without `Connection: close`...
    assert location.value("proxy_http_version") == ["1.1"]
    assert headers["Connection"] == ""
    # ... and idle connections the proxy lets go before the replica closes them.
    (upstream,) = parse_nginx(NGINX_CONF.read_text()).children("upstream")
    assert nginx_seconds(upstream.value("keepalive_timeout")[0]) < KEEP_ALIVE_SECONDS
    # The metrics are scraped from each replica, never through the public server.
    metrics = locations["= /metrics"]
    assert metrics.value("return") == ["404"]
    assert not metrics.values("proxy_pass")


def test_nginx_accepts_the_configuration(certificate: Certificate, tmp_path: Path) -> None:
    nginx = required_tool("nginx")
    rendered = render(tmp_path / "nginx", certificate, ("127.0.0.1:8001", "127.0.0.1:8002"))
    checked = subprocess.run(
        nginx_command(nginx, rendered, "-t"), capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
    assert "test is successful" in checked.stderr
    assert "[warn]" not in checked.stderr
    assert "[emerg]" not in checked.stderr


def test_nginx_refuses_a_broken_configuration(certificate: Certificate, tmp_path: Path) -> None:
    """The check above can fail: the same rendering with one directive misspelt."""
    nginx = required_tool("nginx")
    rendered = render(tmp_path / "nginx", certificate, ("127.0.0.1:8001", "127.0.0.1:8002"))
    site = rendered.prefix / "photochanger.conf"
    site.write_text(site.read_text().replace("proxy_request_buffering", "proxy_request_bufering"))
    checked = subprocess.run(
        nginx_command(nginx, rendered, "-t"), capture_output=True, text=True, check=False
    )
    assert checked.returncode != 0
    assert "proxy_request_bufering" in checked.stderr


@pytest.fixture
def replicas(config: Settings, app: FastAPI) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two `photochanger serve` processes on one database, named app-1 and app-2."""
    first = start_live_server(config.model_copy(update={"instance_id": "app-1"}))
    try:
        second = start_live_server(config.model_copy(update={"instance_id": "app-2"}))
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


@pytest.fixture
def proxy(
    replicas: tuple[LiveServer, LiveServer], certificate: Certificate, tmp_path: Path
) -> Iterator[str]:
    """nginx with deploy/nginx.conf in front of the replicas; its https base URL."""
    nginx = required_tool("nginx")
    upstreams = tuple(server.base_url.removeprefix("http://") for server in replicas)
    rendered = render(tmp_path / "nginx", certificate, upstreams)  # type: ignore[arg-type]
    log = (rendered.prefix / "nginx.out").open("wb")
    process = subprocess.Popen(
        nginx_command(nginx, rendered, "-g", "daemon off;"), stdout=log, stderr=log
    )
    base_url = f"https://127.0.0.1:{rendered.tls_port}"
    try:
        for _ in range(200):
            assert process.poll() is None, (rendered.prefix / "error.log").read_text()
            try:
                httpx.get(f"{base_url}/healthz", verify=certificate.trusted(), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            errors = (rendered.prefix / "error.log").read_text()
            raise AssertionError(f"nginx did not answer: {errors}")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_nginx_proxies_photos_to_both_replicas(
    proxy: str, certificate: Certificate, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    async with httpx.AsyncClient(
        base_url=proxy, verify=certificate.trusted(), timeout=60
    ) as client:
        served = []
        for seed in range(4):
            answer = await client.post(
                "/api/ingest/slot-001",
                data=booth_fields(),
                files={"fileToUpload": (f"p{seed}.jpg", make_image(seed=seed), "image/jpeg")},
            )
            assert answer.status_code == 200, answer.text
            # The proxy's request id reaches the app and comes back.
            assert len(answer.headers["x-request-id"]) == 32
            served.append(answer.headers["x-job-id"])
        async with factory() as session:
            rows = (await session.execute(select(Job.id, Job.instance_id))).all()
        by = {row.id: row.instance_id for row in rows}
        # Round robin: the two replicas took turns.
        assert sorted(by[job] for job in served) == ["app-1", "app-1", "app-2", "app-2"]

        # The largest photo the app takes gets through to the app, which judges it
        # (here: not an image), so the proxy's limit is not below the app's.
        largest = b"\0" * (GLOBAL_UPLOAD_CAP_MB * MB)
        answer = await client.post(
            "/api/ingest/slot-001",
            data=booth_fields(),
            files={"fileToUpload": ("big.jpg", largest, "image/jpeg")},
        )
        assert answer.status_code == 415, answer.text
        assert answer.json()["failure_reason"] == "unsupported_media_type"

        # Past the proxy's limit: nginx answers 413 itself (HTML, not the app's JSON).
        limit = tls_server(parse_nginx(NGINX_CONF.read_text())).value("client_max_body_size")
        oversized = b"\0" * (nginx_bytes(limit[0]) + 1)
        answer = await client.post(
            "/api/ingest/slot-001",
            content=oversized,
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert answer.status_code == 413
        assert answer.headers["content-type"].startswith("text/html")
        assert "nginx" in answer.text


METRICS_PATHS = ("/metrics", "/metrics?format=text", "/%6Detrics")
"""`/metrics` and spellings of it that reach the same page."""
SPOOFED = ("127.0.0.1", "::1", "127.0.0.1, 127.0.0.1")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_metrics_are_not_served_through_the_proxy(
    proxy: str, replicas: tuple[LiveServer, LiveServer], certificate: Certificate
) -> None:
    with httpx.Client(base_url=proxy, verify=certificate.trusted(), timeout=10) as client:
        for path in METRICS_PATHS:
            for spoofed in (None, *SPOOFED):
                headers = {"X-Forwarded-For": spoofed} if spoofed else {}
                answer = client.get(path, headers=headers)
                assert answer.status_code == 404, (path, spoofed)
                assert "photochanger_" not in answer.text, (path, spoofed)
        assert client.get("/healthz").status_code == 200
    # A Prometheus on the replicas' host reads them directly (the default loopback access).
    for replica in replicas:
        assert httpx.get(f"{replica.base_url}/metrics", timeout=10).status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_guest_cannot_choose_its_address_for_the_lockout(
    proxy: str, certificate: Certificate, factory: SessionFactory
) -> None:
    """Ten failed logins, each claiming another address in `X-Forwarded-For` and
    each for another username, lock the address the guest really connects from:
    the eleventh is refused whatever it claims."""
    async with httpx.AsyncClient(
        base_url=proxy, verify=certificate.trusted(), timeout=30
    ) as client:
        for n in range(10):
            answer = await client.post(
                "/api/login",
                json={"username": f"guest{n}", "password": "guess"},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            assert answer.status_code == 401, answer.text
        locked = await client.post(
            "/api/login",
            json={"username": "guest10", "password": "guess"},
            headers={"X-Forwarded-For": "198.51.100.11"},
        )
        assert locked.status_code == 429, locked.text
        assert locked.json()["failure_reason"] == "rate_limited"
    async with factory() as session:
        addresses = (await session.execute(select(LoginFailure.ip))).scalars().all()
    assert addresses == ["127.0.0.1"] * 10
