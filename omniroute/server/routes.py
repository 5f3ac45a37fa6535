"""The route table, built once at start-up. ``dialect`` = the error format of the route."""

from __future__ import annotations

from omniroute.server import api_keys, api_nodes, api_providers, api_system, v1
from omniroute.server.router import Endpoint, Router

OPENAI = "openai_chat"


def build_router() -> Router:
    r = Router()
    r.add("POST", "/v1/chat/completions", Endpoint(v1.chat_completions, OPENAI))
    r.add("POST", "/chat/completions", Endpoint(v1.chat_completions, OPENAI))
    r.add("GET", "/v1/models", Endpoint(v1.list_models, OPENAI))
    r.add("GET", "/models", Endpoint(v1.list_models, OPENAI))

    r.add("GET", "/api/monitoring/health", Endpoint(api_system.health, public=True))
    r.add("POST", "/api/auth/login", Endpoint(api_system.login, public=True))
    r.add("POST", "/api/auth/logout", Endpoint(api_system.logout, public=True))

    r.add("GET", "/api/providers", Endpoint(api_providers.list_all))
    r.add("POST", "/api/providers", Endpoint(api_providers.create))
    r.add("POST", "/api/providers/validate", Endpoint(api_providers.validate))
    r.add("GET", "/api/providers/{id}", Endpoint(api_providers.get_one))
    r.add("PUT", "/api/providers/{id}", Endpoint(api_providers.update))
    r.add("DELETE", "/api/providers/{id}", Endpoint(api_providers.delete))
    r.add("POST", "/api/providers/{id}/test", Endpoint(api_providers.test))
    r.add("GET", "/api/providers/{id}/models", Endpoint(api_providers.models))

    r.add("GET", "/api/provider-nodes", Endpoint(api_nodes.list_all))
    r.add("POST", "/api/provider-nodes", Endpoint(api_nodes.create))
    r.add("GET", "/api/provider-nodes/{id}", Endpoint(api_nodes.get_one))
    r.add("PUT", "/api/provider-nodes/{id}", Endpoint(api_nodes.update))
    r.add("DELETE", "/api/provider-nodes/{id}", Endpoint(api_nodes.delete))

    r.add("GET", "/api/keys", Endpoint(api_keys.list_all))
    r.add("POST", "/api/keys", Endpoint(api_keys.create))
    r.add("GET", "/api/keys/{id}", Endpoint(api_keys.get_one))
    r.add("POST", "/api/keys/{id}/revoke", Endpoint(api_keys.revoke))
    r.add("DELETE", "/api/keys/{id}", Endpoint(api_keys.delete))

    r.add("GET", "/api/models/alias", Endpoint(api_keys.list_aliases))
    r.add("POST", "/api/models/alias", Endpoint(api_keys.set_alias))
    r.add("DELETE", "/api/models/alias/{alias}", Endpoint(api_keys.delete_alias))
    return r
