"""OmniRoute: a self-hosted AI gateway speaking every major LLM wire format."""

__version__ = "0.1.0"
