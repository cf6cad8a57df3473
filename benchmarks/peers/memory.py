"""Peak resident memory of the running process, per step (Linux).

`reset_hwm()` asks the kernel to reset the process's resident high-water mark (writing "5" to
/proc/self/clear_refs, Linux >= 4.0); `vm_hwm_mb()` then reads the peak since that moment (VmHWM
in /proc/self/status). The R and svy runners do the same in their own language, so every side's
peak is measured the same way: while the step runs, with the data already loaded.

>>> reset_hwm() in (True, False)
True
"""

from __future__ import annotations

import re


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def vm_rss_mb() -> float:
    """Resident memory now (VmRSS): the level the step starts from after `reset_hwm()`."""
    with open("/proc/self/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:  # not permitted: the peak then includes reading the data (reported as such)
        return False
