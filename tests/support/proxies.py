"""Real forward proxies for the proxy tests: HTTP ``CONNECT`` and SOCKS5, on loopback ports.

Both run on asyncio in a daemon thread, accept a tunnel request, connect to the target and
copy bytes both ways until either side closes. Each records every tunnel it opened
(``tunnels``: ``"host:port"``), the bytes it carried to each target (``carried``: a tunnel kept
alive carries many requests) and the credentials it was given (``credentials``), and may
require a user and password (``auth=("user", "pass")``): HTTP ``Proxy-Authorization: Basic``
(else ``407``), SOCKS5 username/password (RFC 1929; else the method is refused).

================  =====================================================================
proxy             protocol
================  =====================================================================
``ConnectProxy``  ``CONNECT host:port HTTP/1.1`` → ``200 Connection established``
``Socks5Proxy``   RFC 1928: greeting, optional RFC 1929 auth, ``CONNECT`` by IPv4, IPv6
                  or domain name → reply ``0x00`` (or ``0x05`` when the target refuses)
================  =====================================================================
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import struct
import threading


class TunnelProxy:
    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        self.auth = auth
        self.tunnels: list[str] = []
        self.carried: dict[str, int] = {}
        self.credentials: list[tuple[str, str] | None] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: asyncio.Server | None = None

    def start(self) -> TunnelProxy:
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)
        return self

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        async def halt() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.call_soon(self.loop.stop)

        asyncio.run_coroutine_threadsafe(halt(), self.loop).result(5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target = await self.handshake(reader, writer)
            if target is not None:
                await self._splice(reader, writer, *target, self.tunnels[-1])
        except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handshake(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        raise NotImplementedError

    async def _splice(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter, target: str) -> None:
        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, count: bool = False) -> None:
            try:
                while data := await src.read(65536):
                    if count:
                        self.carried[target] = self.carried.get(target, 0) + len(data)
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer, count=True), pump(up_reader, writer))

    async def open_target(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            upstream = await asyncio.open_connection(host, port)
        except OSError:
            return None
        self.tunnels.append(f"{host}:{port}")
        return upstream

    @property
    def url(self) -> str:
        raise NotImplementedError


class ConnectProxy(TunnelProxy):
    def url_with(self, scheme: str = "http") -> str:
        creds = f"{self.auth[0]}:{self.auth[1]}@" if self.auth else ""
        return f"{scheme}://{creds}127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.url_with()

    async def handshake(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, authority, _version = head[0].split(" ")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        given = None
        if "proxy-authorization" in headers:
            decoded = base64.b64decode(headers["proxy-authorization"].split(" ", 1)[1]).decode()
            user, _, password = decoded.partition(":")
            given = (user, password)
        self.credentials.append(given)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return None
        if self.auth is not None and given != self.auth:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
                         b"Content-Length: 0\r\n\r\n")
            return None
        host, _, port = authority.rpartition(":")
        upstream = await self.open_target(host.strip("[]"), int(port))
        if upstream is None:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return None
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        return upstream


class Socks5Proxy(TunnelProxy):
    @property
    def url(self) -> str:
        creds = f"{self.auth[0]}:{self.auth[1]}@" if self.auth else ""
        return f"socks5://{creds}127.0.0.1:{self.port}"

    async def handshake(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 0x02 if self.auth is not None else 0x00
        if version != 5 or wanted not in methods:
            writer.write(b"\x05\xff")
            return None
        writer.write(bytes([5, wanted]))
        given = await self._login(reader, writer) if wanted == 0x02 else None
        self.credentials.append(given)
        if wanted == 0x02 and given != self.auth:
            return None
        _ver, command, _rsv, kind = await reader.readexactly(4)
        host = await self._address(reader, kind)
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        upstream = await self.open_target(host, port) if command == 1 else None
        code = 0 if upstream is not None else 5
        writer.write(bytes([5, code, 0, 1]) + bytes(4) + b"\x00\x00")
        await writer.drain()
        return upstream

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[str, str]:
        _ver, size = await reader.readexactly(2)
        user = (await reader.readexactly(size)).decode()
        (size,) = await reader.readexactly(1)
        password = (await reader.readexactly(size)).decode()
        writer.write(b"\x01\x00" if (user, password) == self.auth else b"\x01\x01")
        return user, password

    @staticmethod
    async def _address(reader: asyncio.StreamReader, kind: int) -> str:
        if kind == 1:
            return str(ipaddress.IPv4Address(await reader.readexactly(4)))
        if kind == 4:
            return str(ipaddress.IPv6Address(await reader.readexactly(16)))
        (size,) = await reader.readexactly(1)
        return (await reader.readexactly(size)).decode()
