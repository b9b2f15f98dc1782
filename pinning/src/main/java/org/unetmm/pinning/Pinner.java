package org.unetmm.pinning;

import org.HdrHistogram.Histogram;
import org.unetmm.pinning.internal.PageCounts;

/**
 * Pins and unpins byte ranges, page by page, with a reference count per page.
 *
 * <p>The kernel's {@code mlock} is not counted (mlock(2): "memory locks do not stack"): two locks
 * of a page and one unlock leave it unlocked. So the count lives here. A range is widened to
 * whole pages; a page is locked when its count goes 0→1 and unlocked when it goes 1→0, and
 * consecutive such pages are locked or unlocked with one call. Two regions that overlap or share
 * a page therefore never double-lock it nor unlock it early.
 *
 * <p>Every byte locked counts against the {@link PinBudget}; a pin that would pass it fails
 * with {@link PinBudgetExceededException} before any system call. Thread-safe (one monitor).
 *
 * <p>Kept true: {@link #pinnedBytes()} == pages with a non-zero count × page size, and, when
 * nothing else in the process locks memory, == the kernel's VmLck.
 */
public final class Pinner {
    private static final long PAGE = Libc.pageSize();

    private final PinBudget budget;
    private final PageCounts counts = new PageCounts();
    private final Histogram pinNanos = new Histogram(3);
    private final Histogram unpinNanos = new Histogram(3);
    private long pinnedPages;
    private long peakPinnedPages;
    private long lockCalls;
    private long unlockCalls;

    public Pinner(PinBudget budget) {
        this.budget = budget;
    }

    public PinBudget budget() {
        return budget;
    }

    /**
     * Takes a reference on every page of [address, address+length), locking the pages that had
     * none. All or nothing: on failure no count changes and nothing stays locked.
     */
    public synchronized void pin(long address, long length) {
        long first = firstPage(address);
        long end = endPage(address, length);
        long fresh = unpinnedPagesIn(first, end);
        if (fresh > 0 && (pinnedPages + fresh) > budget.bytes() / PAGE) {
            throw new PinBudgetExceededException(pinnedBytes(), pinnedBytes(), fresh * PAGE, budget.bytes());
        }
        long start = System.nanoTime();
        long runStart = -1;
        try {
            for (long page = first; page < end; page++) {
                if (counts.get(page) == 0) {
                    if (runStart < 0) {
                        runStart = page;
                    }
                } else if (runStart >= 0) {
                    lock(runStart, page);
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                lock(runStart, end);
                runStart = -1;
            }
        } catch (RuntimeException e) {
            // undo the runs locked before the failing one: they are the zero-count pages below runStart
            long failedAt = runStart >= 0 ? runStart : end;
            if (runStart >= 0) {
                // and the failing run itself: mlock can fail part way with the pages before the failure
                // locked (ENOMEM at a hole in the mapping, EAGAIN); munlock stops at the same place
                long runEnd = runStart;
                while (runEnd < end && counts.get(runEnd) == 0) {
                    runEnd++;
                }
                try {
                    Libc.munlock(runStart * PAGE, (runEnd - runStart) * PAGE);
                } catch (KernelException partial) {
                    e.addSuppressed(partial);
                }
            }
            unlockZeroCountRuns(first, failedAt);
            throw e;
        }
        for (long page = first; page < end; page++) {
            counts.add(page, 1);
        }
        pinnedPages += fresh;
        peakPinnedPages = Math.max(peakPinnedPages, pinnedPages);
        if (fresh > 0) {
            pinNanos.recordValue(Math.max(0, System.nanoTime() - start));
        }
    }

    /** Drops one reference from every page of the range, unlocking the pages that reach zero. */
    public synchronized void unpin(long address, long length) {
        long first = firstPage(address);
        long end = endPage(address, length);
        for (long page = first; page < end; page++) {
            if (counts.get(page) == 0) {
                throw new IllegalStateException("unpin of page 0x" + Long.toHexString(page * PAGE)
                        + " that is not pinned: every unpin must match one pin of the same range");
            }
        }
        long start = System.nanoTime();
        long freed = 0;
        long runStart = -1;
        for (long page = first; page < end; page++) {
            if (counts.add(page, -1) == 0) {
                freed++;
                if (runStart < 0) {
                    runStart = page;
                }
            } else if (runStart >= 0) {
                unlock(runStart, page);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            unlock(runStart, end);
        }
        pinnedPages -= freed;
        if (freed > 0) {
            unpinNanos.recordValue(Math.max(0, System.nanoTime() - start));
        }
    }

    /** Bytes that pinning the range would newly lock (its pages with no reference yet). */
    public synchronized long unpinnedBytesIn(long address, long length) {
        return unpinnedPagesIn(firstPage(address), endPage(address, length)) * PAGE;
    }

    public synchronized boolean isPinned(long address) {
        return counts.get(address / PAGE) > 0;
    }

    public synchronized long pinnedBytes() {
        return pinnedPages * PAGE;
    }

    public synchronized long peakPinnedBytes() {
        return peakPinnedPages * PAGE;
    }

    /** mlock calls made (one per run of newly pinned pages). */
    public synchronized long lockCalls() {
        return lockCalls;
    }

    /** munlock calls made. */
    public synchronized long unlockCalls() {
        return unlockCalls;
    }

    /** Latency of pins that locked pages, in nanoseconds (a copy). */
    public synchronized Histogram pinLatency() {
        return pinNanos.copy();
    }

    /** Latency of unpins that unlocked pages, in nanoseconds (a copy). */
    public synchronized Histogram unpinLatency() {
        return unpinNanos.copy();
    }

    private long unpinnedPagesIn(long first, long end) {
        long fresh = 0;
        for (long page = first; page < end; page++) {
            if (counts.get(page) == 0) {
                fresh++;
            }
        }
        return fresh;
    }

    private void unlockZeroCountRuns(long first, long end) {
        long runStart = -1;
        for (long page = first; page < end; page++) {
            if (counts.get(page) == 0) {
                if (runStart < 0) {
                    runStart = page;
                }
            } else if (runStart >= 0) {
                unlock(runStart, page);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            unlock(runStart, end);
        }
    }

    private void lock(long firstPage, long endPage) {
        Libc.mlock(firstPage * PAGE, (endPage - firstPage) * PAGE);
        lockCalls++;
    }

    private void unlock(long firstPage, long endPage) {
        Libc.munlock(firstPage * PAGE, (endPage - firstPage) * PAGE);
        unlockCalls++;
    }

    static long firstPage(long address) {
        return address / PAGE;
    }

    static long endPage(long address, long length) {
        return (address + length + PAGE - 1) / PAGE;
    }
}
