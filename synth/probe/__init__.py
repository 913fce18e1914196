"""``synth probe``: linear probes inside a video-LLM (see docs/probes.md)."""
