"""A Python language host for the Pulumi engine, for machines where the Go one cannot be built.

The engine starts a language plugin named `pulumi-language-python`, reads the gRPC port it prints, and asks it
to run the program. Pulumi's own host is a Go module that the Go module proxy here does not serve (see
docs/toolchain.md), so `scripts/setup` installs this host instead, as a `pulumi-language-python` wrapper on PATH.

It implements the parts of `pulumirpc.LanguageRuntime` that `preview`, `up`, `refresh`, `destroy` and policy
packs use, the way the Go host does:
- `Run` starts Pulumi's real executor, `pulumi-language-python-exec` (shipped in the sdk/v3 Go module), in the
  project's virtualenv with the same arguments and the `PULUMI_CONFIG` / `PULUMI_CONFIG_SECRET_KEYS` environment;
- `GetRequiredPackages` / `GetRequiredPlugins` list the installed distributions that carry `pulumi-plugin.json`;
- `RunPlugin` runs a Python plugin directory (a policy pack) with the virtualenv's Python and streams its output.
The rest answer with empty results or UNIMPLEMENTED, which the engine tolerates.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pulumi
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

# Exit code the executor uses after it has shown the user an actionable message (the engine must not add one).
BAIL_EXIT_CODE = 32
EXECUTOR_ENV = "HARBOR_CACHE_PYTHON_EXECUTOR"


def _options(info: Any) -> dict[str, Any]:
    """The `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml, as a plain dict."""
    if info is None or not info.HasField("options"):
        return {}
    return json_format.MessageToDict(info.options)


def _python_for(root_directory: str, options: dict[str, Any]) -> str:
    """The interpreter of the project's virtualenv (runtime option `virtualenv`), else this one."""
    virtualenv = options.get("virtualenv")
    if not virtualenv:
        return sys.executable
    venv = Path(virtualenv)
    if not venv.is_absolute():
        venv = Path(root_directory or os.getcwd()) / venv
    python = venv / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"runtime option virtualenv points at {venv}, which has no bin/python: run scripts/setup to create it"
        )
    return str(python)


def _installed_plugins() -> list[plugin_pb2.PluginDependency]:
    """Resource plugins that the installed Pulumi packages ask for, read from their `pulumi-plugin.json`."""
    found: dict[str, plugin_pb2.PluginDependency] = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or []:
            if file.name != "pulumi-plugin.json":
                continue
            try:
                meta = json.loads(Path(str(dist.locate_file(file))).read_text())
            except (OSError, ValueError):
                continue
            if not meta.get("resource"):
                continue
            name = meta.get("name") or dist.metadata["Name"].removeprefix("pulumi-").removeprefix("pulumi_")
            version = meta.get("version") or dist.version
            found[name] = plugin_pb2.PluginDependency(
                name=name, kind="resource", version=f"v{version.lstrip('v')}", server=meta.get("server", "")
            )
    return list(found.values())


class PythonLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The LanguageRuntime service: runs programs and Python plugins in the project's virtualenv."""

    def __init__(self, engine_address: str, executor: str) -> None:
        self._engine_address = engine_address
        self._executor = executor

    def Handshake(self, request: Any, context: Any) -> Any:
        if request.engine_address:
            self._engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=pulumi.__version__ if hasattr(pulumi, "__version__") else "")

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        return language_pb2.GetRequiredPluginsResponse(plugins=_installed_plugins())

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        packages = [
            plugin_pb2.PackageDependency(name=p.name, kind=p.kind, version=p.version, server=p.server)
            for p in _installed_plugins()
        ]
        return language_pb2.GetRequiredPackagesResponse(packages=packages)

    def Run(self, request: Any, context: Any) -> Any:
        info = request.info if request.HasField("info") else None
        root = info.root_directory if info else request.pwd
        try:
            python = _python_for(root, _options(info))
        except FileNotFoundError as exc:
            return language_pb2.RunResponse(error=str(exc))
        args = [python, "-u", self._executor]
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self._engine_address),
            ("project", request.project),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("organization", request.organization),
            ("root_directory", root),
        ):
            if value:
                args += [f"--{flag}", value]
        program = (info.entry_point if info else "") or request.program or "."
        args += [program, *request.args]
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        env["PYTHONUNBUFFERED"] = "1"
        proc = subprocess.run(args, env=env, cwd=request.pwd or None, check=False)
        if proc.returncode == 0:
            return language_pb2.RunResponse()
        if proc.returncode == BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {proc.returncode}")

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:
        info = request.info
        python = _python_for(info.root_directory, _options(info))
        env = dict(os.environ)
        env.update(dict(item.split("=", 1) for item in request.env if "=" in item))
        proc = subprocess.Popen(
            [python, "-u", info.program_directory, *request.args],
            cwd=request.pwd or None,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        chunks: list[Any] = []
        cond = threading.Condition()

        def pump(stream: Any, field: str) -> None:
            for line in iter(stream.readline, b""):
                with cond:
                    chunks.append(language_pb2.RunPluginResponse(**{field: line}))
                    cond.notify()
            with cond:
                chunks.append(None)
                cond.notify()

        readers = [threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
                   threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True)]
        for reader in readers:
            reader.start()
        def stop_plugin() -> None:
            if proc.poll() is None:
                proc.terminate()

        context.add_callback(stop_plugin)
        finished = 0
        while finished < len(readers):
            with cond:
                while not chunks:
                    cond.wait()
                chunk = chunks.pop(0)
            if chunk is None:
                finished += 1
            else:
                yield chunk
        yield language_pb2.RunPluginResponse(exitcode=proc.wait())

    def InstallDependencies(self, request: Any, context: Any) -> Iterator[Any]:
        yield language_pb2.InstallDependenciesResponse(
            stdout=b"harbor-cache: dependencies are installed by scripts/setup (pinned requirements)\n"
        )

    def RuntimeOptionsPrompts(self, request: Any, context: Any) -> Any:
        return language_pb2.RuntimeOptionsResponse()

    def About(self, request: Any, context: Any) -> Any:
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version.split()[0])

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:
        deps = [
            language_pb2.DependencyInfo(name=d.metadata["Name"], version=d.version)
            for d in importlib.metadata.distributions()
        ]
        return language_pb2.GetProgramDependenciesResponse(dependencies=deps)

    def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()


def main(argv: list[str]) -> int:
    """Serve on a free loopback port, print it for the engine, and serve until the engine stops us."""
    parser = argparse.ArgumentParser(prog="pulumi-language-python", allow_abbrev=False)
    for flag in ("-tracing", "-root", "-binary", "-toolchain", "-virtualenv", "-use-executor"):
        parser.add_argument(flag, default="")
    parser.add_argument("engine", nargs="?", default="")
    args, _ = parser.parse_known_args(argv)
    executor = args.use_executor or os.environ.get(EXECUTOR_ENV, "")
    if not executor or not Path(executor).exists():
        print(f"pulumi-language-python: executor not found ({EXECUTOR_ENV}={executor!r}); run scripts/setup",
              file=sys.stderr)
        return 1
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(PythonLanguageHost(args.engine, executor), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # The engine stops plugins with SIGINT and waits for them to exit. Exit at once and quietly: a program
    # run has finished by then, and stopping the gRPC server from a signal handler can deadlock.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
