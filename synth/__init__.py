"""synth: procedural video synthesis for controlled tests of video models."""

__version__ = "0.1.0"
