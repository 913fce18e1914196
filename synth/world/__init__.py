"""The world-model bench: give a model the first frames of a ``world`` clip and its action
stream, take the video it generates, and score every revisit (a frame whose camera pose an
earlier frame had) against the ground-truth render and against the model's own first visit.

* :mod:`synth.world.metrics`: PSNR, SSIM, CIEDE2000 and the object-level scores;
* :mod:`synth.world.revisits`: which frames revisit which, and how long each object was away;
* :mod:`synth.world.models`: the adapters (``command``, ``python``) and the reference models
  (``oracle``, ``sliding_window``, ``frozen``, ``noise``);
* :mod:`synth.world.runner`: generate, cache, score and write ``evals/<model>/world.json``.

Conventions and protocol: docs/world-models.md.
"""
