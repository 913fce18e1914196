"""The ``synth`` command line: ``synth <command> [key=value ...]``.

Every command is a module in this package exposing

* ``Config``: a dataclass, the command's Hydra structured-config schema;
* ``run(cfg: Config) -> None``: does the work, raising :class:`synth.errors.UserError`
  for bad input;
* optionally ``validate(cfg)`` (checks run for every value of a multirun before any job),
  ``POSITIONAL`` (the field a bare first argument fills, e.g. ``synth list tasks``),
  ``register(cs, overrides)`` (extra config groups; it sees the overrides, so it can skip
  groups they do not use), ``DEFAULTS`` (the Hydra defaults list),
  ``multirun_job(cfg, swept_keys) -> cfg`` (adjusts one multirun job's config) and
  ``default_out(cfg) -> str`` (where ``out`` points when not given; multirun jobs go below it).
  List-typed fields may be given more than once (``data=A data=B``).

Single runs are composed with Hydra's compose API, so nothing is written besides the
command's own output. ``-m/--multirun`` (and launcher overrides) go through ``hydra.main``
so Hydra's sweepers and launchers (joblib, submitit) work as users expect. In a multirun
each job's ``out`` gets the job's swept values appended (``out/object.rotation_deg=5``).

Every user-facing error is one line on stderr (``synth: error: ...``), exit status 2: a
:class:`UserError` (bad keys, values, paths, manifests, videos ffmpeg cannot read) and an OSError
about the user's paths or disk (full, read-only, a file where a directory belongs). Any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib
import re
import shutil
import signal
import sys
import tempfile
import threading
import typing
from pathlib import Path
from typing import Any

from synth.errors import UserError, os_error_message

COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("synth.cli.generate", "render a dataset of test clips from a task family"),
    "verify": ("synth.cli.verify", "re-hash clips and check a dataset against its manifest"),
    "merge": ("synth.cli.merge", "merge dataset shards into one dataset"),
    "list": ("synth.cli.listing", "list tasks, degradations or models"),
    "degrade": ("synth.cli.degrade", "apply a camera-degradation pipeline to a video or dataset"),
    "calibrate": ("synth.cli.calibrate", "measure PSNR/SSIM of every degradation x severity"),
    "eval": ("synth.cli.evaluate", "run a model on a dataset and score it"),
    "report": ("synth.cli.report", "tables and plots over one or more evaluated datasets"),
    "audit": ("synth.cli.audit", "learned shortcut probes: can one frame or the question text tell the answer?"),
    "probe": ("synth.cli.probe", "linear probes inside a video-LLM: where it loses what it saw"),
    "patch": ("synth.cli.patch", "activation patching across paired clips: where a video-LLM uses what it saw"),
    "world": ("synth.cli.world", "run a world model on world clips and score revisit consistency"),
    "export": ("synth.cli.export", "export a dataset: lmms-eval tasks, LLaVA conversations, a Hugging Face datasets folder"),
    "bench": ("synth.cli.bench", "measure render, encode and end-to-end speed"),
}

# Hydra settings for multirun: no log files, no .hydra folder per job; the one sweep folder is
# placed by _sweep_dir (never the current folder).
_HYDRA_QUIET = [
    "hydra.output_subdir=null",
    "hydra/job_logging=disabled",
    "hydra/hydra_logging=disabled",
    "hydra.sweep.subdir=.",
]


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: synth <command> [key=value ...] [-m]", "", "commands:"]
    lines += [f"  {name:<{width}}  {desc}" for name, (_, desc) in COMMANDS.items()]
    return "\n".join(lines)


def _fail(message: str) -> int:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"synth: error: {first}", file=sys.stderr)
    return 2


def _fail_os(exc: OSError) -> int:
    """:func:`_fail` for an OSError about the user's paths or disk (full, read-only, a file where
    a directory belongs); any other OSError is a bug and is raised again, traceback and all."""
    message = os_error_message(exc)
    if message is None:
        raise exc
    return _fail(message)


def _list_fields(config_cls: type) -> set[str]:
    hints = typing.get_type_hints(config_cls)
    out = set()
    for f in dataclasses.fields(config_cls):
        tp = hints[f.name]
        origin = typing.get_origin(tp)
        if origin is typing.Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            origin = typing.get_origin(args[0]) if args else None
        if origin in (list, typing.List):
            out.add(f.name)
    return out


def _normalize(mod: Any, args: list[str]) -> tuple[list[str], bool]:
    """Positional argument -> field, repeated list keys -> one list, strip -m."""
    multirun = False
    overrides: list[str] = []
    rest = []
    for a in args:
        if a in ("-m", "--multirun"):
            multirun = True
        else:
            rest.append(a)
    positional = getattr(mod, "POSITIONAL", None)
    if positional and rest and "=" not in rest[0]:
        overrides.append(f"{positional}={rest.pop(0)}")
    for a in rest:
        if "=" not in a:
            raise UserError(f"argument '{a}' is not key=value")
    list_keys = _list_fields(mod.Config)
    grouped: dict[str, list[str]] = {}
    for a in rest:
        key, value = a.split("=", 1)
        if key in list_keys and not (value.startswith("[") and value.endswith("]")):
            grouped.setdefault(key, []).append(_quote(value))
        else:
            # A path such as out/shard.index=0 is no Hydra expression: quote it.
            overrides.append(f"{key}={_quote(value)}" if "=" in value and value[:1] not in "'\"[" else a)
    for key, values in grouped.items():
        overrides.append(f"{key}=[{','.join(values)}]")
    return overrides, multirun


def _quote(value: str) -> str:
    """Quote a plain value for Hydra's grammar, unless it already is an expression."""
    if value[:1] in "'\"" or not re.search(r"[=,\s\[\]{}()']", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _store(name: str, mod: Any, overrides: list[str]) -> None:
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    if hasattr(mod, "register"):
        mod.register(cs, overrides)
    defaults = getattr(mod, "DEFAULTS", None)
    if defaults:
        cs.store(name=f"{name}_schema", node=mod.Config)
        cs.store(name=name, node={"defaults": [f"{name}_schema", *defaults, "_self_"]})
    else:
        cs.store(name=name, node=mod.Config)


def _explain(exc: BaseException, config_cls: type) -> str:
    """One line naming the key and what is allowed, from a Hydra/OmegaConf error."""
    chain = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for err in chain:
        msg = str(err)
        key = getattr(err, "full_key", None)
        m = re.search(r"Key '([^']+)' (?:not in|is not in struct)", msg)
        if m:
            bad = str(key or m.group(1))
            # The error knows the schema of the node it failed in (also inside config groups).
            node_type = getattr(err, "object_type", None)
            if dataclasses.is_dataclass(node_type):
                allowed = [f.name for f in dataclasses.fields(node_type)]
            else:
                allowed = _allowed_keys(config_cls, bad.split(".")[:-1])
            tail = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            return f"unknown key '{bad}'{tail}"
        m = re.search(r"Could not (?:find|load) '([^/']+)/([^']+)'", msg)
        if m:
            group, option = m.groups()
            avail = _group_options(group)
            tail = f"; allowed: {', '.join(avail)}" if avail else ""
            return f"{group}: unknown option '{option}'{tail}"
        m = re.search(r"You must specify '([^']+)'", msg)
        if m:  # a config group without a default (model= of synth eval, degradation= of synth degrade)
            group = m.group(1)
            avail = _group_options(group)
            tail = f"; allowed: {', '.join(avail)}" if avail else ""
            return f"{group}: required, none given ({group}=NAME){tail}"
        if "could not be converted" in msg or "Invalid value assigned" in msg or "is not a valid" in msg:
            first = msg.splitlines()[0]
            return f"{key}: {first}" if key else first
    first = str(exc).strip().splitlines()
    return first[0] if first else type(exc).__name__


def _group_options(group: str) -> list[str]:
    """The options stored in Hydra's ConfigStore for config group ``group`` (empty if none)."""
    from hydra.core.config_store import ConfigStore

    try:
        return sorted(n.removesuffix(".yaml") for n in ConfigStore.instance().list(group))
    except Exception:  # ConfigStore raises its own error for an unknown group
        return []


def _allowed_keys(config_cls: type, path: list[str]) -> list[str]:
    """Field names of the dataclass node at ``path`` below ``config_cls`` (empty if unknown)."""
    node: Any = config_cls
    for part in path:
        hints = typing.get_type_hints(node) if dataclasses.is_dataclass(node) else {}
        node = hints.get(part)
        if node is None:
            return []
    return [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else []


def _to_object(cfg: Any) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.to_object(cfg)


def _compose(name: str, mod: Any, overrides: list[str]) -> Any:
    """The command's config object from ``overrides``: every key known to its schema, no
    group option listed twice, every number finite and inside its key's range
    (:func:`synth.scenes.params.check_numbers`); else a one-line :class:`UserError`."""
    from hydra import compose, initialize
    from hydra.core.global_hydra import GlobalHydra

    from synth.scenes.params import check_numbers

    _refuse_repeated_options(overrides)
    GlobalHydra.instance().clear()
    with initialize(version_base=None, config_path=None):
        try:
            cfg = compose(config_name=name, overrides=overrides)
            _refuse_added_keys(cfg)
            obj = _to_object(cfg)
        except UserError:
            raise
        except Exception as exc:  # Hydra/OmegaConf errors are many types; all are bad input here
            raise UserError(_too_large(overrides) or _explain(exc, mod.Config)) from None
    try:
        check_numbers(obj)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return obj


def _too_large(overrides: list[str]) -> str | None:
    """The one-line error for an integer too large for a float key (OmegaConf's OverflowError
    names no key), or None."""
    for override in overrides:
        key, _, value = override.partition("=")
        if re.fullmatch(r"[+-]?\d{309,}", value):
            return f"{key.lstrip('+~')}={value[:6]}... ({len(value)} digits): too large; allowed a finite number"
    return None


def _refuse_repeated_options(overrides: list[str]) -> None:
    """A config group given one option twice (``degradation=[fog,fog]``) would run it once: refuse."""
    from hydra.core.config_store import ConfigStore

    groups = {name for name, node in ConfigStore.instance().repo.items() if isinstance(node, dict)}
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key in groups and value.startswith("[") and value.endswith("]"):
            options = [v.strip() for v in value[1:-1].split(",") if v.strip()]
            twice = sorted({v for v in options if options.count(v) > 1})
            if twice:
                raise UserError(f"{key}={value}: {', '.join(twice)} listed twice; each runs once, "
                                f"set its strength instead (e.g. {key}.{twice[0]}.severity=N)")  # fmt: skip


def _refuse_added_keys(cfg: Any, prefix: str = "") -> None:
    """A key added with ``+`` to a node of the schema (``+render.foo=1``) would be dropped
    silently: refuse it, naming the node's keys. Dict-typed nodes take any key."""
    from omegaconf import DictConfig, OmegaConf

    node_type = OmegaConf.get_type(cfg)
    if dataclasses.is_dataclass(node_type):
        allowed = [f.name for f in dataclasses.fields(node_type)]
        for key in cfg:
            if key not in allowed:
                raise UserError(f"unknown key '{prefix}{key}'; allowed keys: {', '.join(allowed)}")
    for key in cfg:
        value = cfg._get_node(key)
        if isinstance(value, DictConfig) and not value._is_missing() and not value._is_none():
            _refuse_added_keys(value, f"{prefix}{key}.")


def _sweep_keys(name: str, mod: Any, overrides: list[str]) -> list[str]:
    """Compose every value of every sweep override once, so a bad value fails before any job;
    returns the swept keys (they name each job's output directory)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:
        raise UserError(_explain(exc, mod.Config)) from None
    plain = [o.input_line for o in parsed if not o.is_sweep_override() and not o.key_or_group.startswith("hydra")]
    sweeps = [o for o in parsed if o.is_sweep_override()]
    check = getattr(mod, "validate", lambda cfg: None)
    check(_compose(name, mod, plain))
    for o in sweeps:
        for value in o.sweep_string_iterator():
            check(_compose(name, mod, plain + [f"{o.key_or_group}={value}"]))
    return [o.key_or_group for o in sweeps]


def _run_job(mod: Any, cfg: Any) -> None:
    try:
        mod.run(cfg)
    except UserError as exc:
        raise SystemExit(_fail(str(exc)))
    except OSError as exc:
        raise SystemExit(_fail_os(exc))


def _multirun(name: str, mod: Any, overrides: list[str]) -> None:
    import hydra
    from hydra.core.hydra_config import HydraConfig

    _check_launcher(overrides)
    swept = _sweep_keys(name, mod, overrides)
    has_out = any(f.name == "out" for f in dataclasses.fields(mod.Config))

    def task(cfg: Any) -> None:
        obj = _to_object(cfg)
        job = [o for o in HydraConfig.get().overrides.task if o.split("=", 1)[0] in swept]
        base = (obj.out or (mod.default_out(obj) if hasattr(mod, "default_out") else "")) if has_out else ""
        if base and job:
            obj.out = f"{base.rstrip('/')}/{','.join(job)}"
        if job and hasattr(mod, "multirun_job"):  # e.g. generate records the swept value as the sweep
            obj = mod.multirun_job(obj, [o.split("=", 1)[0] for o in job])
        _run_job(mod, obj)

    with tempfile.TemporaryDirectory(prefix="synth-sweep-") as scratch:
        sweep = _sweep_dir(mod, overrides, Path(scratch), bool(swept))
        fresh = not sweep.exists()
        sys.argv = [f"synth {name}", "--multirun", *overrides, *_HYDRA_QUIET, f"hydra.sweep.dir={_quote(str(sweep))}"]
        hydra.main(version_base=None, config_path=None, config_name=name)(task)()
        if fresh:  # all jobs done: Hydra's multirun.yaml and a launcher's logs are no longer needed
            shutil.rmtree(sweep, ignore_errors=True)


def _check_launcher(overrides: list[str]) -> None:
    """``hydra/launcher=NAME`` must name an installed launcher plugin (Hydra's own refusal is a
    dozen lines); the Ray launcher comes with the ``ray`` extra."""
    from hydra.core.plugins import Plugins
    from hydra.plugins.launcher import Launcher

    for override in overrides:
        key, _, value = override.partition("=")
        if key == "hydra/launcher":
            Plugins.instance().discover(Launcher)  # imports the plugins, which store their configs
            allowed = _group_options("hydra/launcher")
            if value not in allowed:
                extra = ' (ray: pip install -e ".[ray]")' if value == "ray" else ""
                raise UserError(f"hydra/launcher={value}: allowed {', '.join(allowed)}{extra}")


def _sweep_dir(mod: Any, overrides: list[str], scratch: Path, swept: bool) -> Path:
    """Hydra's sweep folder (its multirun.yaml, a launcher's logs such as submitit's): ``.hydra``
    inside the jobs' common output ``out=`` when jobs write below it (``swept``), or a scratch
    folder when none is given or the one job writes ``out=`` itself (a launcher without a sweep:
    ``.hydra`` there would make the folder foreign to it); never the current folder. It is
    removed once every job succeeded, kept for a look when one failed."""
    has_out = any(f.name == "out" for f in dataclasses.fields(mod.Config))
    given = [o.split("=", 1)[1] for o in overrides if o.startswith("out=")] if has_out else []
    plain = swept and given and "," not in given[0] and given[0][:1] not in "'\"["
    return Path(given[0]) / ".hydra" if plain else scratch / "sweep"


def _run_leaving_nothing(mod: Any, cfg: Any) -> None:
    """``mod.run(cfg)``; if it fails, the directories it created on the way to ``cfg.out`` that
    are still empty are removed again (a run that wrote something keeps it: datasets resume)."""
    out = getattr(cfg, "out", "")
    fresh = []
    if out:
        for d in (Path(out), *Path(out).parents):
            if d.exists():
                break
            fresh.append(d)
    try:
        mod.run(cfg)
    except BaseException:
        for d in fresh:  # deepest first
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        raise


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed buffers up to 32 MiB instead of returning each to the OS: every clip
    allocates the same frame-sized tensors again, and faulting their pages back in cost more than
    the arithmetic of many degradation stages (+45 % frames/s on the full stack, `synth bench`;
    a 32-frame 256² chunk is 25 MB). Larger buffers (multi-frame 1080p windows) are still mmapped
    and returned when freed: kept on the heap, their varying sizes fragmented it and `synth
    degrade` of a 1080p clip grew past 2 GB (docs/performance.md)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, (1 << 31) - 1)


def _stop_on_signals() -> dict:
    """Make SIGTERM and SIGHUP end a run as Ctrl-C does (a KeyboardInterrupt naming the signal),
    so every cleanup runs: temporary files and half-built outputs go, locks are released. A second
    such signal during the cleanup is ignored. Returns the handlers to restore (none off the main
    thread, where Python cannot set them)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum: int, frame: Any) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    return {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}


def main(argv: list[str] | None = None) -> int:
    _keep_freed_memory()
    previous = _stop_on_signals()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `synth list tasks | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name = args.pop(0)
    if name not in COMMANDS:
        return _fail(f"unknown command '{name}'; allowed: {', '.join(COMMANDS)}")
    mod = importlib.import_module(COMMANDS[name][0])
    if any(a in ("-h", "--help") for a in args):
        print((mod.__doc__ or COMMANDS[name][1]).strip())
        return 0
    try:
        overrides, multirun = _normalize(mod, args)
        _store(name, mod, overrides)
        if multirun or any(o.startswith("hydra/launcher=") for o in overrides):
            _multirun(name, mod, overrides)
            return 0
        cfg = _compose(name, mod, overrides)
        _run_leaving_nothing(mod, cfg)
    except UserError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail_os(exc)
    except KeyboardInterrupt as exc:
        by = f" by {exc.args[0]}" if exc.args else ""
        return _fail(f"interrupted{by}; temporary files removed, rerun the same command to complete it")
    return 0
