"""Operator settings that change what the gateway does, kept in LMDB (``settings`` table).

=====================  =======================  ===========================================
document (store name)  API                      compiled into (per worker, on a version move)
=====================  =======================  ===========================================
``general``            ``/api/settings``        ``trustedProxies`` → ``access.Access``;
                                                ``accountStrategy`` (routing)
``auth``               ``/api/settings/         ``requireLogin`` → ``access.Access``
                       require-login``
``ip_filter``          ``/api/settings/         ``access.Access.ip_filter`` (``None`` when
                       ip-filter``              off: one attribute test per request)
``system_prompt``      ``/api/settings/         ``hooks.SystemPromptHook`` (only while on)
                       system-prompt``
``thinking_budget``    ``/api/settings/         ``hooks.ThinkingBudgetHook`` (only when not
                       thinking-budget``        ``passthrough``)
``proxy``              ``/api/settings/proxy``  ``proxies.ProxyTable`` → a tunnelling
                                                ``H1Pool`` per proxy URL
=====================  =======================  ===========================================

``documents`` validates each document (a 400 naming the field) and presents it (proxy
credentials masked); the other modules compile a validated document into what a request
reads. Nothing here runs per request unless its setting is on.
"""
