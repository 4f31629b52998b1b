"""Local mode has one owner process; the others are told who it is and what to do."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loupe_index import IndexLockedError, VectorIndex


def test_opening_twice_in_one_process_says_so(settings):
    first = VectorIndex.open(settings, role="server")
    try:
        with pytest.raises(IndexLockedError) as err:
            VectorIndex.open(settings, role="loupe index")
        assert "already open in this process (as 'server')" in str(err.value)
    finally:
        first.close()
    VectorIndex.open(settings).close()  # released on close


def test_another_process_is_named_with_its_role_and_what_to_do(settings):
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from loupe_core.settings import Settings
        from loupe_index import VectorIndex
        index = VectorIndex.open(Settings.load(env={{}}, data_dir=Path({str(settings.data_dir)!r})), role="server")
        print("open", flush=True)
        sys.stdin.read()
        index.close()
    """)
    other = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[3])
    try:
        assert other.stdout.readline().strip() == "open"
        with pytest.raises(IndexLockedError) as err:
            VectorIndex.open(settings, role="loupe index")
        message = str(err.value)
        assert f"the server process, pid {other.pid}" in message
        assert "LOUPE_QDRANT_URL" in message and "stop the other process" in message
    finally:
        other.communicate("", timeout=30)
    VectorIndex.open(settings).close()  # free again once the other process has gone
