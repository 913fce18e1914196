"""``synth patch``: causal tracing across paired clips. ``hooks`` records and replaces stage
activations (plain torch forward hooks on ``synth.probe.stages``' stages); ``run`` builds the
ordered pairs, measures each stage's effect and the sanity endpoints, writes patch.json/md/png."""
