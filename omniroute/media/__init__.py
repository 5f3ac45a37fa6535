"""Media requests: OpenAI's embeddings, images and transcription shapes, translated to and
from each provider's own (one module per concern).

==================  ======================================================================
module              holds
==================  ======================================================================
``embeddings``      the OpenAI embeddings request (checked), Gemini ``embedContent`` /
                    ``batchEmbedContents`` and Ollama ``/api/embed`` both ways, base64
                    vectors, the usage of an answer
``images``          the OpenAI images request (checked), xAI / Together / Fireworks
                    requests and answers ⇄ OpenAI's ``{"created", "data": [...]}``
``audio``           the transcription form's fields, Deepgram and AssemblyAI transcripts
                    → OpenAI's answers (json, text, verbose_json, srt, vtt)
``multipart``       ``multipart/form-data``: an incremental reader that spools the file
                    part to a temporary file, and a writer for Whisper-style upstreams
``sniff``           audio types by their first bytes (mp3, wav, m4a, flac, ogg, webm)
==================  ======================================================================

This package sits at the providers layer (docs/architecture.md): it reads rows' dialects and
builds ``upstream.StreamBody`` values, and nothing here does I/O but the spool file.
"""
