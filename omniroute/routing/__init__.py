"""Routing: model resolution (provider/model, alias, listed model), targets, accounts."""
