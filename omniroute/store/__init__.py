"""Embedded state: an LMDB environment shared by every worker process (see ``lmdb_store``)."""

from omniroute.store.lmdb_store import Store
from omniroute.store.records import (
    Alias,
    ApiKey,
    Budget,
    Combo,
    ComboEntry,
    Connection,
    CustomModel,
    EvalCase,
    EvalSuite,
    OAuthToken,
    Policy,
    ProviderNode,
    Session,
    SettingValue,
)
from omniroute.store.runtime import Runtime

__all__ = [
    "Alias", "ApiKey", "Budget", "Combo", "ComboEntry", "Connection", "CustomModel", "EvalCase", "EvalSuite",
    "OAuthToken", "Policy", "ProviderNode", "Runtime", "Session", "SettingValue", "Store",
]
