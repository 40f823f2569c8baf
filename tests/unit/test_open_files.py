"""``serve`` raises its open-file soft limit to the hard one."""

from __future__ import annotations

import resource
import subprocess
import sys

SCRIPT = """
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (256, {hard}))
from cloudpacs.open_files import raise_open_files_limit
print(raise_open_files_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_the_soft_limit_is_raised_to_the_hard_one() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    expected = 1 << 20 if hard == resource.RLIM_INFINITY else min(hard, 1 << 20)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(hard=hard)], capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == [str(expected), str(expected)]
