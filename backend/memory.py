"""Process-wide allocator tuning for image work."""

import ctypes
import ctypes.util

# glibc's mallopt parameter number for M_MMAP_THRESHOLD.
M_MMAP_THRESHOLD = -3
LARGE_ALLOCATION = 1024 * 1024


def return_large_allocations_to_the_os() -> bool:
    """Serve allocations of 1 MB and more (decoded photos) from mmap, so freeing them returns the memory.

    glibc otherwise raises its mmap threshold after the first large free and keeps later
    pixel buffers in per-thread heaps: a worker's memory then grows with every thread that
    has decoded a photo. Returns False where the C library is not glibc.
    """
    library = ctypes.util.find_library("c")
    if not library:
        return False
    try:
        libc = ctypes.CDLL(library)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_ALLOCATION))
    except (OSError, AttributeError):
        return False
