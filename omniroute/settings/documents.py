"""The settings documents: validated from an API body, stored as dicts, presented back.

Each ``check_*`` takes the decoded JSON body (and the stored document where a PUT merges)
and answers the normalised document to store, or raises a 400 whose ``param`` names the
field (``allow[2]``, ``providers.openai.url``). Wire names are camelCase, as stored.

====================  ==============================================  ==========================
document              fields (defaults)                               rules
====================  ==============================================  ==========================
``ip_filter``         ``mode`` ("off"), ``allow`` ([]), ``block``     mode off|allow|block;
                      ([]), ``allowLoopback`` (true)                  entries are IPs or CIDRs
``system_prompt``     ``enabled`` (false), ``prompt`` (""),           enabled needs a prompt;
                      ``mode`` ("prepend")                            prepend|append|replace
``thinking_budget``   ``mode`` ("passthrough"), ``budgetTokens``      0..131072; adaptive needs
                      (8192)                                          ≥ 1024
``proxy``             ``global``, ``providers``, ``connections``      http, https, socks5(h)
                      (``{"url"}`` each), ``noProxy`` ([])            URLs with host and port
``auth``              ``requireLogin`` (on once a password exists)    a boolean
====================  ==============================================  ==========================

A PUT replaces the fields it names and keeps the others. Proxy URLs may carry credentials;
they are stored as given and presented masked (``socks5://user:****@host:1080``); a PUT
that sends a masked URL back keeps the stored password.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from omniroute.errors import ErrorKind, GatewayError
from omniroute.inputs import require

IP_FILTER_DEFAULTS: dict[str, Any] = {"mode": "off", "allow": [], "block": [], "allowLoopback": True}
SYSTEM_PROMPT_DEFAULTS: dict[str, Any] = {"enabled": False, "prompt": "", "mode": "prepend"}
THINKING_DEFAULTS: dict[str, Any] = {"mode": "passthrough", "budgetTokens": 8192}
PROXY_DEFAULTS: dict[str, Any] = {"global": None, "providers": {}, "connections": {}, "noProxy": []}

IP_MODES = ("off", "allow", "block")
PROMPT_MODES = ("prepend", "append", "replace")
THINKING_MODES = ("passthrough", "auto", "custom", "adaptive")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
MAX_BUDGET = 131072
MIN_ADAPTIVE = 1024
MAX_PROMPT = 100_000
_MASK = "****"


def _known(payload: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    require(isinstance(payload, dict), "body", "must be a JSON object")
    unknown = sorted(set(payload) - set(defaults))
    require(not unknown, unknown[0] if unknown else "", f"is not a setting here; known: {sorted(defaults)}")
    return payload


def _typed(doc: dict[str, Any], field: str, kind: type | tuple[type, ...], what: str) -> None:
    value = doc[field]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    require(ok, field, f"must be {what}")


def check_cidrs(values: Any, field: str) -> list[str]:
    """A list of IP addresses or CIDR networks, normalised (``10.0.0.1`` → ``10.0.0.1/32``)."""
    require(isinstance(values, list), field, "must be a list of IP addresses or CIDR networks")
    out = []
    for i, value in enumerate(values):
        try:
            out.append(str(ipaddress.ip_network(str(value).strip(), strict=False)))
        except ValueError:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"'{field}[{i}]' is not an IP address or CIDR network: "
                               f"{value!r}", param=f"{field}[{i}]") from None
    return out


def check_ip_filter(payload: Any, stored: dict[str, Any]) -> dict[str, Any]:
    doc = {**IP_FILTER_DEFAULTS, **stored, **_known(payload, IP_FILTER_DEFAULTS)}
    require(doc["mode"] in IP_MODES, "mode", f"must be one of {', '.join(IP_MODES)}")
    _typed(doc, "allowLoopback", bool, "true or false")
    doc["allow"] = check_cidrs(doc["allow"], "allow")
    doc["block"] = check_cidrs(doc["block"], "block")
    return doc


def check_system_prompt(payload: Any, stored: dict[str, Any]) -> dict[str, Any]:
    doc = {**SYSTEM_PROMPT_DEFAULTS, **stored, **_known(payload, SYSTEM_PROMPT_DEFAULTS)}
    _typed(doc, "enabled", bool, "true or false")
    _typed(doc, "prompt", str, "a string")
    require(doc["mode"] in PROMPT_MODES, "mode", f"must be one of {', '.join(PROMPT_MODES)}")
    require(len(doc["prompt"]) <= MAX_PROMPT, "prompt", f"must be at most {MAX_PROMPT} characters")
    require(not doc["enabled"] or bool(doc["prompt"].strip()), "prompt", "must not be empty while enabled")
    return doc


def check_thinking(payload: Any, stored: dict[str, Any]) -> dict[str, Any]:
    doc = {**THINKING_DEFAULTS, **stored, **_known(payload, THINKING_DEFAULTS)}
    require(doc["mode"] in THINKING_MODES, "mode", f"must be one of {', '.join(THINKING_MODES)}")
    _typed(doc, "budgetTokens", int, f"an integer 0..{MAX_BUDGET}")
    require(0 <= doc["budgetTokens"] <= MAX_BUDGET, "budgetTokens", f"must be 0..{MAX_BUDGET}")
    if doc["mode"] == "adaptive":
        require(doc["budgetTokens"] >= MIN_ADAPTIVE, "budgetTokens",
                f"is adaptive mode's ceiling and must be at least {MIN_ADAPTIVE}")
    return doc


def check_require_login(payload: Any) -> dict[str, Any]:
    doc = _known(payload, {"requireLogin": True})
    require("requireLogin" in doc and isinstance(doc["requireLogin"], bool), "requireLogin", "must be true or false")
    return doc


# -- proxies ------------------------------------------------------------------------------------
def check_proxy_url(url: Any, field: str) -> str:
    """An ``http``, ``https``, ``socks5`` or ``socks5h`` URL with a host and a port."""
    require(isinstance(url, str) and bool(url.strip()), field, "must be a proxy URL such as socks5://host:1080")
    parts = urlsplit(url.strip())
    require(parts.scheme in PROXY_SCHEMES, field, f"must use one of {', '.join(PROXY_SCHEMES)} (got "
            f"'{parts.scheme or 'no scheme'}')")
    try:
        port = parts.port
    except ValueError:
        port = None
    require(bool(parts.hostname) and port is not None, field, "must name a host and a port (scheme://host:port)")
    require(parts.path in ("", "/") and not parts.query, field, "must not have a path or query")
    return url.strip().rstrip("/")


def check_proxy(payload: Any, stored: dict[str, Any], providers: set[str], connections: set[str]) -> dict[str, Any]:
    doc = {**PROXY_DEFAULTS, **stored, **_known(payload, PROXY_DEFAULTS)}
    old = {**PROXY_DEFAULTS, **stored}
    doc["global"] = _entry(doc["global"], "global", (old["global"] or {}).get("url"))
    for section, known in (("providers", providers), ("connections", connections)):
        table = doc[section]
        require(isinstance(table, dict), section, "must be an object of {name: {\"url\"}}")
        checked = {}
        for name, entry in table.items():
            require(name in known, f"{section}.{name}", f"is not a known {section[:-1]}")
            value = _entry(entry, f"{section}.{name}", (old[section].get(name) or {}).get("url"))
            if value is not None:
                checked[name] = value
        doc[section] = checked
    hosts = doc["noProxy"]
    require(isinstance(hosts, list) and all(isinstance(h, str) and h.strip() for h in hosts), "noProxy",
            "must be a list of host names, suffixes (.example.com), IPs or CIDRs")
    doc["noProxy"] = [h.strip().lower() for h in hosts]
    return doc


def _entry(entry: Any, field: str, stored_url: str | None) -> dict[str, str] | None:
    if entry is None or entry == {} or entry == "":
        return None
    require(isinstance(entry, dict) and set(entry) == {"url"}, field, "must be {\"url\": \"scheme://host:port\"} "
            "or null")
    url = check_proxy_url(entry["url"], f"{field}.url")
    return {"url": _unmask(url, stored_url)}


def _unmask(url: str, stored: str | None) -> str:
    """A masked URL sent back (GET then PUT) keeps the stored password."""
    parts = urlsplit(url)
    if parts.password != _MASK or stored is None:
        return url
    old = urlsplit(stored)
    if (old.username, old.hostname, old.port) != (parts.username, parts.hostname, parts.port):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "a masked password can only be kept for the same user, host "
                           "and port: send the password", param="url")
    return stored


def mask_url(url: str) -> str:
    """``scheme://user:****@host:port`` (no password: unchanged)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{parts.username}:{_MASK}@{host}"


def present_proxy(doc: dict[str, Any]) -> dict[str, Any]:
    doc = {**PROXY_DEFAULTS, **doc}
    return {
        "global": {"url": mask_url(doc["global"]["url"])} if doc["global"] else None,
        "providers": {k: {"url": mask_url(v["url"])} for k, v in doc["providers"].items()},
        "connections": {k: {"url": mask_url(v["url"])} for k, v in doc["connections"].items()},
        "noProxy": doc["noProxy"],
    }
