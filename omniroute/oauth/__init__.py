"""Subscription accounts: OAuth logins and the tokens they yield (docs/subscriptions.md).

==============  ==================================================================
module          holds
==============  ==================================================================
``providers``   the OAuth providers as data rows and their configured endpoints
``pending``     logins in progress (PKCE states, device codes), shared by workers
``client``      the calls to OAuth servers (exchange, refresh, device, Copilot)
``tokens``      ``TokenBook``: fresh tokens on the request path, one refresh at a time
==============  ==================================================================
"""
