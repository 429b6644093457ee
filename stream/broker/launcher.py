"""Start and stop one local Apache Kafka broker (KRaft, broker + controller in one JVM)."""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path
from types import TracebackType

from stream.broker.config import (
    BrokerConfig,
    render_properties,
    scram_format_args,
    server_properties,
)
from stream.broker.errors import (
    BrokerError,
    BrokerExitedError,
    BrokerStartTimeoutError,
    PortInUseError,
    StorageFormatError,
)
from stream.broker.jars import ensure_jars
from stream.broker.java import find_java
from stream.broker.logscan import LogWatch, bind_failure, error_summary
from stream.broker.ports import ensure_ports_free
from stream.broker.process import die_with_parent_hook
from stream.broker.readiness import metadata_answers, port_accepts

BROKER_MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"
_TOOL_TIMEOUT_S = 120.0


class KafkaBroker:
    """A broker process this object started and alone stops.

        with KafkaBroker(BrokerConfig(work_dir=tmp, port=p, controller_port=c)) as broker:
            use(broker.bootstrap)

    `start(detach=True)` leaves the broker running after this process exits (the CLI's
    `up`); otherwise it is stopped at exit and, on the main thread, also when this process
    is killed.
    """

    def __init__(self, config: BrokerConfig) -> None:
        # The JVM runs with the work dir as its cwd, so every path it is given must be absolute.
        self.config = dataclasses.replace(config, work_dir=config.work_dir.resolve())
        config = self.config
        self._process: subprocess.Popen[bytes] | None = None
        self._logs = LogWatch([config.console_log, config.server_log])

    @property
    def bootstrap(self) -> str:
        return self.config.bootstrap

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 90.0, detach: bool = False) -> str:
        """Start the broker and return its bootstrap address once it answers clients.

        Raises a BrokerError subclass, never leaving a process behind, when Java or the jars
        are missing, a port is taken, the broker exits, or it does not answer in `timeout` s.
        """
        if self._process is not None:
            raise BrokerError(f"this broker was already started (pid {self._process.pid})")
        config = self.config
        java = find_java(config.kafka_version)
        lib = ensure_jars(config.kafka_version, config.cache_root)
        ensure_ports_free(
            {"broker": config.port, "controller": config.controller_port}, config.host
        )
        self._write_config_files()
        classpath = f"{lib}/*"
        if not (config.data_dir / "meta.properties").is_file():
            _format_storage(java, classpath, config)
        self._launch(java, classpath, detach)
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            # Ctrl-C or a failed start must not leave a JVM holding the ports.
            self.stop()
            raise
        return self.bootstrap

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the started process (SIGTERM, then SIGKILL after `timeout` s); its exit code."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is None:
            return None
        if process.poll() is None:
            # Only this pid is signalled: the JVM runs in its own session and has no children.
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10.0)
        return process.returncode

    def __enter__(self) -> KafkaBroker:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_config_files(self) -> None:
        config = self.config
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        config.properties_path.write_text(render_properties(server_properties(config)))
        log4j = resources.files("stream.broker").joinpath("log4j.properties").read_bytes()
        config.log4j_path.write_bytes(log4j)

    def _launch(self, java: Path, classpath: str, detach: bool) -> None:
        config = self.config
        command = [
            str(java),
            f"-Xmx{config.heap}",
            *_gc_flags(config),
            *_jit_flags(config),
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            *_logging_flags(config),
            "-cp",
            classpath,
            BROKER_MAIN_CLASS,
            str(config.properties_path),
        ]
        self._logs.mark()
        with config.console_log.open("ab") as console:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=config.work_dir,
                start_new_session=True,
                preexec_fn=None if detach else die_with_parent_hook(),
            )
        if not detach:
            atexit.register(self.stop)

    def _wait_until_ready(self, timeout: float) -> None:
        config = self.config
        process = self._process
        assert process is not None
        deadline = time.monotonic() + timeout
        while True:
            exit_code = process.poll()
            # Read after poll(): a process seen dead has finished writing its log.
            log_text = self._logs.new_text(config.server_log)
            console_text = self._logs.new_text(config.console_log)
            failed_bind = bind_failure(log_text) or bind_failure(console_text)
            if failed_bind is not None:
                raise PortInUseError(
                    f"Kafka broker could not bind its ports ({config.port}, "
                    f"{config.controller_port}) on {config.host}: {failed_bind}"
                )
            if exit_code is not None:
                report = _report(log_text, console_text)
                raise BrokerExitedError(
                    f"Kafka broker exited with code {exit_code} while starting "
                    f"(logs in {config.logs_dir});\n{report}",
                    exit_code=exit_code,
                    log_tail=report,
                )
            client = {} if config.sasl is None else config.sasl.admin_client_config()
            if port_accepts(config.host, config.port) and metadata_answers(
                config.bootstrap, _cluster_id(config), client_config=client
            ):
                return
            if time.monotonic() >= deadline:
                raise BrokerStartTimeoutError(
                    f"Kafka broker (pid {process.pid}) did not answer on {config.bootstrap} "
                    f"within {timeout:.0f} s (logs in {config.logs_dir});\n"
                    f"{_report(log_text, console_text)}"
                )
            time.sleep(0.2)


def _report(log_text: str, console_text: str) -> str:
    """What a person needs to see first: logged errors, then the last lines written."""
    errors = error_summary(log_text) + error_summary(console_text)
    last = "\n".join((console_text.strip() + "\n" + log_text).strip().splitlines()[-12:])
    if errors:
        return "errors logged:\n" + "\n".join(errors) + "\nlast log lines:\n" + last
    return "last log lines:\n" + last


def _cluster_id(config: BrokerConfig) -> str | None:
    """The cluster id the data directory was formatted with (from its meta.properties)."""
    try:
        text = (config.data_dir / "meta.properties").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id":
            return value.strip()
    return None


def _logging_flags(config: BrokerConfig) -> list[str]:
    return [
        f"-Dlog4j.configuration=file:{config.log4j_path}",
        f"-Dkafka.logs.dir={config.logs_dir}",
    ]


def _gc_flags(config: BrokerConfig) -> list[str]:
    if config.gc_collector == "g1":
        collector = ["-XX:+UseG1GC", f"-XX:MaxGCPauseMillis={config.gc_pause_target_ms}"]
        tags = "gc"
    elif config.gc_collector == "zgc":
        # ZGC logs its pauses ("Pause Mark Start ...") under gc+phases, not gc alone.
        collector, tags = ["-XX:+UseZGC"], "gc,gc+phases"
    else:
        collector, tags = ["-XX:+UseShenandoahGC"], "gc"
    # As Kafka's own start scripts do: every collection and its pause, in a bounded file.
    return [*collector, f"-Xlog:{tags}:file={config.gc_log}:time,uptime:filecount=2,filesize=10M"]


def _jit_flags(config: BrokerConfig) -> list[str]:
    if config.optimising_jit:
        return []
    # The quick (C1) compiler only. This broker shares a small machine with the workers it
    # serves; with the optimising (C2) compiler its compiler threads took ~0.7 of a core for
    # the first ~15 s of traffic and came back at each new traffic pattern, starving the
    # worker (demo: 1-12 % of decisions past a 50 ms budget in the first 10 s). C1-only
    # measured here: no such burst, 60 µs of broker CPU per scored event at full load against
    # 73 with C2 (docs/performance.md). Once C2 has compiled (a minute or more of traffic),
    # a lone request costs the broker about half (docs/performance.md): `optimising_jit`.
    return ["-XX:TieredStopAtLevel=1"]


def _format_storage(java: Path, classpath: str, config: BrokerConfig) -> None:
    """Give a fresh data directory its KRaft metadata (a new cluster id, this node's id)."""
    cluster_id = _run_storage_tool(java, classpath, config, ["random-uuid"]).strip().splitlines()
    if not cluster_id:
        raise StorageFormatError("kafka.tools.StorageTool random-uuid printed no cluster id")
    _run_storage_tool(
        java,
        classpath,
        config,
        [
            "format",
            "-t",
            cluster_id[-1].strip(),
            "-c",
            str(config.properties_path),
            *([] if config.sasl is None else scram_format_args(config.sasl)),
        ],
    )


def _run_storage_tool(java: Path, classpath: str, config: BrokerConfig, args: list[str]) -> str:
    command = [
        str(java),
        "-Xmx256m",
        # A tool that runs for a second gains nothing from the optimising JIT: start it faster.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        *_logging_flags(config),
        "-cp",
        classpath,
        STORAGE_TOOL_CLASS,
        *args,
    ]
    try:
        run = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise StorageFormatError(
            f"kafka.tools.StorageTool {args[0]} did not finish in {_TOOL_TIMEOUT_S:.0f} s"
        ) from exc
    if run.returncode != 0:
        output = (run.stdout + run.stderr).strip()
        raise StorageFormatError(
            f"kafka.tools.StorageTool {args[0]} failed (exit {run.returncode}) "
            f"for {config.data_dir}:\n{output}"
        )
    return run.stdout


def reset_work_dir(config: BrokerConfig) -> None:
    """Delete the broker's data and logs so the next start formats a new cluster."""
    for path in (config.data_dir, config.logs_dir):
        shutil.rmtree(path, ignore_errors=True)
