"""GLSL sources of the renderer, shipped as package data (read with importlib.resources)."""
