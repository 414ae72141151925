"""numpy/scipy's BLAS (OpenBLAS) runs one thread, fixed once per process, never toggled.

The app's BLAS work is small (classifier fits on a few hundred 256-d embeddings, a (1, E) x (E, K)
head per window), and threaded BLAS made each fit ~5x slower on 2 cores (hand-offs, and torch's
threads want the cores). Limiting it per fit (``threadpool_limits`` around each fit) is unsafe:
OpenBLAS's thread count is one process-wide setting, and changing it from the classifier's thread
while another thread is inside a BLAS call is a documented cause of crashes. So the count is set
once: by ``OPENBLAS_NUM_THREADS=1`` before numpy is loaded (``import comodo_live`` does it, and
keeps a value the user set), or, when numpy was already loaded, by one ``threadpool_limits``
call at import, before any comodo-live thread exists. torch's own threads are separate
(``torch.set_num_threads``, ``trainer.torch_threads``).
"""

from __future__ import annotations

import os
import sys

BLAS_THREADS_VARIABLE = "OPENBLAS_NUM_THREADS"


def single_threaded_blas() -> None:
    """One BLAS thread for this process, unless the user chose (``OPENBLAS_NUM_THREADS`` set).

    Call before numpy is imported (environment variable) or, failing that, before any other
    thread uses BLAS (one ``threadpool_limits`` call, not undone).
    """
    if BLAS_THREADS_VARIABLE in os.environ:
        return  # the user's choice, or already done in this process
    os.environ[BLAS_THREADS_VARIABLE] = "1"  # read by each OpenBLAS when it loads
    if "numpy" in sys.modules:  # numpy's OpenBLAS has started its threads already
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
