"""``H1Pool`` through a proxy (``upstream.tunnel``): real CONNECT and SOCKS5 proxies
(``tests/support/proxies.py``), plain and TLS upstreams, credentials, refusals, keep-alive
over the tunnel; on the stdlib loop and uvloop."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from omniroute.upstream import H1ConnectError, H1Pool
from omniroute.upstream.tunnel import ProxyTunnel
from tests.support.proxies import ConnectProxy, Socks5Proxy, TunnelProxy
from tests.upstream.servers import post, web_server


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await request.json(), "host": request.headers["Host"]})


ROUTES = [web.post("/echo", _echo)]


@pytest.fixture(scope="module", params=["connect", "socks5", "connect-auth", "socks5-auth"])
def proxy(request: pytest.FixtureRequest) -> Iterator[TunnelProxy]:
    kind, _, auth = request.param.partition("-")
    server = (ConnectProxy if kind == "connect" else Socks5Proxy)(("omni", "s3cr:et@") if auth else None).start()
    yield server
    server.stop()


def _pool(url: str, **kw: Any) -> H1Pool:
    return H1Pool(connect_timeout=2, read_timeout=2, proxy=ProxyTunnel(url), **kw)


def _quoted(proxy: TunnelProxy) -> str:
    """The proxy's URL with its credentials percent-encoded (the password has ':' and '@')."""
    return proxy.url.replace("s3cr:et@@", "s3cr%3Aet%40@")


def test_plain_upstream_through_the_tunnel_with_keep_alive(run: Any, proxy: TunnelProxy) -> None:
    async def go() -> None:
        pool = _pool(_quoted(proxy))
        async with web_server(ROUTES) as base:
            before = len(proxy.tunnels)
            for i in range(3):
                status, body = await post(pool, base + "/echo", b'{"n": %d}' % i)
                assert status == 200 and b'"n": %d' % i in body
            assert proxy.tunnels[before:] == [base.removeprefix("http://")]  # one tunnel, reused
            assert proxy.credentials[-1] == proxy.auth
        await pool.close()

    run(go())


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a self-signed ``localhost`` cert."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "key.pem", "-out",
                    d / "cert.pem", "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(Path(d / "cert.pem"), Path(d / "key.pem"))
    client = ssl.create_default_context(cafile=str(d / "cert.pem"))
    return server, client


def test_tls_upstream_through_the_tunnel(run: Any, proxy: TunnelProxy,
                                         tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    async def go() -> None:
        app = web.Application()
        app.add_routes(ROUTES)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls[0])
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        pool = _pool(_quoted(proxy), ssl_context=tls[1])
        try:
            status, body = await post(pool, f"https://localhost:{port}/echo", b'{"tls": true}')
            assert status == 200 and b'"tls": true' in body
            assert proxy.tunnels[-1] == f"localhost:{port}" or proxy.tunnels[-1].endswith(f":{port}")
        finally:
            await pool.close()
            await runner.cleanup()

    run(go())


@pytest.mark.parametrize("kind", [ConnectProxy, Socks5Proxy])
def test_wrong_credentials_and_dead_targets_are_connect_errors(run: Any, kind: type[TunnelProxy]) -> None:
    server = kind(("omni", "right")).start()

    async def go() -> None:
        wrong = _pool(server.url.replace("right", "wrong"))
        with pytest.raises(H1ConnectError, match="could not reach"):
            await post(wrong, "http://127.0.0.1:9/echo")
        await wrong.close()
        dead = _pool(server.url)
        with pytest.raises(H1ConnectError, match=r"proxy (http|socks5)://127\.0\.0\.1:\d+ could not reach"):
            await post(dead, "http://127.0.0.1:9/echo")  # the proxy cannot reach the target
        await dead.close()
        gone = _pool("socks5://127.0.0.1:9")
        with pytest.raises(H1ConnectError):
            await post(gone, "http://127.0.0.1:9/echo")
        await gone.close()

    try:
        run(go())
    finally:
        server.stop()


def test_messages_never_carry_the_credentials() -> None:
    tunnel = ProxyTunnel("socks5h://user:pw-secret@proxy.example:1080")
    assert tunnel.label == "socks5h://proxy.example:1080"
    assert (tunnel.username, tunnel.password) == ("user", "pw-secret")
    with pytest.raises(ValueError, match="unsupported proxy URL"):
        ProxyTunnel("ftp://proxy.example:21")
