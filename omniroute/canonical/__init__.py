"""The canonical form: the hub every wire format translates to and from.

See ``content`` (blocks, and the provenance of reasoning state), ``request``, ``response``
(stop reasons, usage), ``stream`` (events) and ``envelope`` (reasoning state packed into a
field a client format returns verbatim). Formats import from here; nothing here imports a
format.
"""

from omniroute.canonical.content import (
    Block,
    DocumentBlock,
    ImageBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UnknownBlock,
    standard_base64,
    text_of,
)
from omniroute.canonical.request import (
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
    ToolChoiceMode,
    system_reminder,
)
from omniroute.canonical.response import Response, StopReason, Usage
from omniroute.canonical.stream import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    Delta,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Unknown,
)

__all__ = [
    "ArgumentsDelta",
    "Block",
    "BlockDelta",
    "BlockStart",
    "BlockStop",
    "Delta",
    "DocumentBlock",
    "Event",
    "ImageBlock",
    "Message",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "Ping",
    "Reasoning",
    "RedactedThinkingBlock",
    "Request",
    "Response",
    "ResponseFormat",
    "SignatureDelta",
    "StopReason",
    "StreamError",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "Tool",
    "ToolCallBlock",
    "ToolChoice",
    "ToolChoiceMode",
    "ToolResultBlock",
    "Unknown",
    "UnknownBlock",
    "Usage",
    "standard_base64",
    "system_reminder",
    "text_of",
]
