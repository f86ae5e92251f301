"""A throwaway PostgreSQL server for the tests, started from the server binaries.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
(``runuser -u postgres --``). Its data folder is a fresh folder owned by that user under a
parent every user can enter (the system temporary folder can be private to root); it listens
on a Unix socket in that folder only, never on the network. Password authentication
(scram-sha-256) is on, so the tests exercise the credential paths.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "s3cret-for-tests"
PORT = 54329


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file():
            return Path(folder)
    return None


def _parent() -> str:
    """A folder every user can enter, for the server's own folder."""
    for candidate in (os.environ.get("AUDIT_KIT_PG_PARENT"), tempfile.gettempdir(), "/var/tmp"):
        if candidate and os.path.isdir(candidate) and os.stat(candidate).st_mode & 0o001:
            return candidate
    raise RuntimeError("no world-traversable folder for the PostgreSQL data directory")


@dataclass
class Server:
    root: Path
    bindir: Path
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.root}&port={PORT}"

    def psql(self, *args: str) -> None:
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        subprocess.run(
            [str(self.bindir / "psql") if (self.bindir / "psql").exists() else "psql",
             "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.root), "-p", str(PORT),
             "-U", "postgres", "-d", "postgres", *args],
            check=True, env=env, capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
             "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Server:
    """initdb and start a server; the caller stops it."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    root = Path(tempfile.mkdtemp(prefix="audit-kit-pg-", dir=_parent()))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    root.chmod(0o700)
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_postgres:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres",
         "-A", "scram-sha-256", f"--pwfile={pwfile}", "--no-sync", "-E", "UTF8",
         "--locale=C.UTF-8"],
        check=True, capture_output=True, cwd="/",
    )  # fmt: skip
    pwfile.unlink()
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l",
         str(root / "log"), "-o", f"-p {PORT} -k {root} -c listen_addresses='' -c fsync=off",
         "-w", "start"],
        check=True, capture_output=True, cwd="/",
    )  # fmt: skip
    root.chmod(0o711)  # clients (root) reach the socket; the data folder stays private
    return Server(root=root, bindir=bindir, as_postgres=as_postgres)
