"""The route table, built once at start-up. ``dialect`` = the error format of the route."""

from __future__ import annotations

from omniroute.server import (
    api_backups,
    api_cache,
    api_cli_tools,
    api_evals,
    api_keys,
    api_lifecycle,
    api_nodes,
    api_oauth,
    api_provider_catalog,
    api_providers,
    api_resilience,
    api_routing,
    api_settings,
    api_sync,
    api_system,
    api_telemetry,
    api_usage,
    dashboard,
    v1,
    v1_formats,
    v1_media,
)
from omniroute.server.router import Endpoint, Router

OPENAI = "openai_chat"
MANAGEMENT = "management"
PUBLIC = "public"


def build_router() -> Router:
    r = Router()
    r.add("POST", "/v1/chat/completions", Endpoint(v1.chat_completions, OPENAI))
    r.add("POST", "/chat/completions", Endpoint(v1.chat_completions, OPENAI))
    r.add("GET", "/v1/models", Endpoint(v1.list_models, OPENAI))
    r.add("GET", "/models", Endpoint(v1.list_models, OPENAI))
    r.add("POST", "/v1/providers/{provider}/chat/completions", Endpoint(v1.provider_chat_completions, OPENAI))
    _add_media(r)
    _add_formats(r)
    _add_routing(r)
    _add_accounts_and_backups(r)
    _add_operations(r)
    _add_usage(r)

    r.add("GET", "/api/monitoring/health", Endpoint(api_system.health, access=PUBLIC))
    r.add("POST", "/api/auth/login", Endpoint(api_system.login, access=PUBLIC))
    r.add("POST", "/api/auth/logout", Endpoint(api_system.logout, access=PUBLIC))

    r.add("GET", "/api/providers", Endpoint(api_providers.list_all, access=MANAGEMENT))
    r.add("POST", "/api/providers", Endpoint(api_providers.create, access=MANAGEMENT))
    r.add("POST", "/api/providers/validate", Endpoint(api_providers.validate, access=MANAGEMENT))
    r.add("GET", "/api/providers/{id}", Endpoint(api_providers.get_one, access=MANAGEMENT))
    r.add("PUT", "/api/providers/{id}", Endpoint(api_providers.update, access=MANAGEMENT))
    r.add("DELETE", "/api/providers/{id}", Endpoint(api_providers.delete, access=MANAGEMENT))
    r.add("POST", "/api/providers/{id}/test", Endpoint(api_providers.test, access=MANAGEMENT))
    r.add("GET", "/api/providers/{id}/models", Endpoint(api_providers.models, access=MANAGEMENT))

    r.add("GET", "/api/provider-catalog", Endpoint(api_provider_catalog.catalog, access=MANAGEMENT))
    r.add("GET", "/api/provider-nodes", Endpoint(api_nodes.list_all, access=MANAGEMENT))
    r.add("POST", "/api/provider-nodes", Endpoint(api_nodes.create, access=MANAGEMENT))
    r.add("GET", "/api/provider-nodes/{id}", Endpoint(api_nodes.get_one, access=MANAGEMENT))
    r.add("PUT", "/api/provider-nodes/{id}", Endpoint(api_nodes.update, access=MANAGEMENT))
    r.add("DELETE", "/api/provider-nodes/{id}", Endpoint(api_nodes.delete, access=MANAGEMENT))

    r.add("GET", "/api/keys", Endpoint(api_keys.list_all, access=MANAGEMENT))
    r.add("POST", "/api/keys", Endpoint(api_keys.create, access=MANAGEMENT))
    r.add("GET", "/api/keys/{id}", Endpoint(api_keys.get_one, access=MANAGEMENT))
    r.add("PUT", "/api/keys/{id}", Endpoint(api_keys.update, access=MANAGEMENT))
    r.add("POST", "/api/keys/{id}/revoke", Endpoint(api_keys.revoke, access=MANAGEMENT))
    r.add("DELETE", "/api/keys/{id}", Endpoint(api_keys.delete, access=MANAGEMENT))

    r.add("GET", "/api/models/alias", Endpoint(api_keys.list_aliases, access=MANAGEMENT))
    r.add("POST", "/api/models/alias", Endpoint(api_keys.set_alias, access=MANAGEMENT))
    r.add("DELETE", "/api/models/alias/{alias}", Endpoint(api_keys.delete_alias, access=MANAGEMENT))
    _add_dashboard(r)
    return r


def _add_dashboard(r: Router) -> None:
    """The web dashboard: its handler applies the management API's access rule itself, so
    that a page without a session is sent to the login page instead of answered with JSON."""
    serve = Endpoint(dashboard.Dashboard().serve, access=PUBLIC)
    r.add("GET", dashboard.ROOT, serve)
    r.add("GET", dashboard.ROOT + "/", serve)
    r.add("GET", dashboard.ROOT + "/{rest:path}", serve)


def _add_media(r: Router) -> None:
    m = v1_media
    for prefix in ("/v1", ""):
        r.add("POST", prefix + "/embeddings", Endpoint(m.embeddings, OPENAI))
        r.add("GET", prefix + "/embeddings", Endpoint(m.list_embedding_models, OPENAI))
        r.add("POST", prefix + "/images/generations", Endpoint(m.images, OPENAI))
        r.add("GET", prefix + "/images/generations", Endpoint(m.list_image_models, OPENAI))
        r.add("POST", prefix + "/audio/transcriptions", Endpoint(m.transcriptions, OPENAI))
    r.add("POST", "/v1/providers/{provider}/embeddings", Endpoint(m.provider_embeddings, OPENAI))
    r.add("POST", "/v1/providers/{provider}/images/generations", Endpoint(m.provider_images, OPENAI))


def _add_formats(r: Router) -> None:
    f = v1_formats
    r.add("POST", "/v1/messages", Endpoint(f.messages, "anthropic"))
    r.add("POST", "/v1/messages/count_tokens", Endpoint(f.count_tokens, "anthropic"))
    r.add("POST", "/v1/responses", Endpoint(f.responses, "openai_responses"))
    r.add("POST", "/responses", Endpoint(f.responses, "openai_responses"))
    r.add("GET", "/v1beta/models", Endpoint(f.gemini_models, "gemini"))
    r.add("POST", "/v1beta/models/{rest:path}", Endpoint(f.gemini_generate, "gemini"))
    r.add("POST", "/v1/models/{rest:path}", Endpoint(f.gemini_generate, "gemini"))
    for prefix in ("", "/v1"):
        r.add("POST", prefix + "/api/chat", Endpoint(f.ollama_chat, "ollama"))
        r.add("GET", prefix + "/api/tags", Endpoint(f.ollama_tags, "ollama"))
        r.add("POST", prefix + "/api/show", Endpoint(f.ollama_show, "ollama"))


def _add_routing(r: Router) -> None:
    a, res = api_routing, api_resilience
    for method, path, handler in (
        ("GET", "/api/combos", a.list_combos), ("POST", "/api/combos", a.create_combo),
        ("GET", "/api/combos/{id}", a.get_combo), ("PUT", "/api/combos/{id}", a.update_combo),
        ("DELETE", "/api/combos/{id}", a.delete_combo),
        ("GET", "/api/models/catalog", a.catalog),
        ("GET", "/api/provider-models", a.list_custom_models), ("POST", "/api/provider-models", a.add_custom_model),
        ("DELETE", "/api/provider-models", a.delete_custom_model),
        ("GET", "/api/policies", a.list_policies), ("POST", "/api/policies", a.create_policy),
        ("DELETE", "/api/policies/{id}", a.delete_policy),
        ("GET", "/api/settings", a.get_settings), ("PUT", "/api/settings", a.put_settings),
        ("GET", "/api/rate-limits", res.rate_limits),
        ("GET", "/api/models/availability", res.availability), ("POST", "/api/models/availability", res.availability),
        ("GET", "/api/resilience", res.get_resilience), ("PUT", "/api/resilience", res.put_resilience),
        ("POST", "/api/resilience/reset", res.reset_resilience),
        ("GET", "/api/rate-limit", res.get_rate_limit), ("PUT", "/api/rate-limit", res.put_rate_limit),
        ("GET", "/api/pricing", res.get_pricing), ("PUT", "/api/pricing", res.put_pricing),
        ("GET", "/api/cache", api_cache.stats), ("DELETE", "/api/cache", api_cache.clear),
        ("GET", "/api/cache/config", api_cache.get_config), ("PUT", "/api/cache/config", api_cache.put_config),
        ("GET", "/api/usage/budget", res.get_budget), ("POST", "/api/usage/budget", res.set_budget),
        ("DELETE", "/api/usage/budget", res.delete_budget),
    ):
        r.add(method, path, Endpoint(handler, access=MANAGEMENT))


def _add_accounts_and_backups(r: Router) -> None:
    """Subscription logins, backups, export/import and cloud sync (``/api/cloud/*`` checks the
    sync token itself: a login session does not open it)."""
    b, s = api_backups, api_sync
    for method, path, handler in (
        ("GET", "/api/oauth/{provider}/{action}", api_oauth.handle),
        ("POST", "/api/oauth/{provider}/{action}", api_oauth.handle),
        ("GET", "/api/db-backups", b.list_backups), ("PUT", "/api/db-backups", b.create_backup),
        ("POST", "/api/db-backups", b.restore_backup), ("GET", "/api/db-backups/export", b.export),
        ("POST", "/api/db-backups/import", b.import_file), ("GET", "/api/db-backups/exportAll", b.export_all),
        ("POST", "/api/sync/initialize", s.initialize), ("POST", "/api/sync/cloud", s.sync),
    ):
        r.add(method, path, Endpoint(handler, access=MANAGEMENT))
    r.add("GET", "/api/cloud/bundle", Endpoint(s.get_bundle, access=PUBLIC))
    r.add("PUT", "/api/cloud/bundle", Endpoint(s.put_bundle, access=PUBLIC))
def _add_operations(r: Router) -> None:
    """Settings, lifecycle, CLI tools and evals (docs/operations.md)."""
    st, lc, ct, ev = api_settings, api_lifecycle, api_cli_tools, api_evals
    r.add("GET", "/api/init", Endpoint(lc.init, access=PUBLIC))
    for method, path, handler in (
        ("POST", "/api/auth/password", api_system.change_password),
        ("POST", "/api/restart", lc.restart), ("POST", "/api/shutdown", lc.shutdown),
        ("GET", "/api/settings/require-login", st.get_require_login),
        ("PUT", "/api/settings/require-login", st.put_require_login),
        ("GET", "/api/settings/ip-filter", st.get_ip_filter), ("PUT", "/api/settings/ip-filter", st.put_ip_filter),
        ("GET", "/api/settings/system-prompt", st.get_system_prompt),
        ("PUT", "/api/settings/system-prompt", st.put_system_prompt),
        ("GET", "/api/settings/thinking-budget", st.get_thinking_budget),
        ("PUT", "/api/settings/thinking-budget", st.put_thinking_budget),
        ("GET", "/api/settings/proxy", st.get_proxy), ("PUT", "/api/settings/proxy", st.put_proxy),
        ("POST", "/api/settings/proxy/test", st.test_proxy),
        ("GET", "/api/cli-tools/runtime/{tool}", ct.runtime),
        ("GET", "/api/cli-tools/{tool}", ct.get_settings), ("POST", "/api/cli-tools/{tool}", ct.write_settings),
        ("GET", "/api/evals", ev.list_suites), ("POST", "/api/evals", ev.create_suite),
        ("GET", "/api/evals/{id}", ev.get_suite), ("DELETE", "/api/evals/{id}", ev.delete_suite),
        ("POST", "/api/evals/{id}/run", ev.run_suite_now),
    ):
        r.add(method, path, Endpoint(handler, access=MANAGEMENT))


def _add_usage(r: Router) -> None:
    u, t = api_usage, api_telemetry
    for method, path, handler in (
        ("GET", "/api/usage/logs", u.logs), ("GET", "/api/usage/logs/{id}", u.log_entry),
        ("GET", "/api/usage/request-logs", u.request_logs),
        ("GET", "/api/usage/request-logs/{id}", u.request_log_entry),
        ("GET", "/api/usage/history", u.history),
        ("GET", "/api/usage/retention", u.get_retention), ("PUT", "/api/usage/retention", u.put_retention),
        ("GET", "/api/usage/{connectionId}", u.connection_usage),
        ("GET", "/api/telemetry/summary", t.summary),
        ("GET", "/api/sessions", t.sessions),
        ("GET", "/api/compliance/audit-log", t.audit_log),
    ):
        r.add(method, path, Endpoint(handler, access=MANAGEMENT))
    r.add("GET", "/metrics", Endpoint(t.metrics, access="metrics"))
