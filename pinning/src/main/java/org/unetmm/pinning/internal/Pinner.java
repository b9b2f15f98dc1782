package org.unetmm.pinning.internal;

import org.HdrHistogram.Histogram;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.LockedMemory;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinBudgetExceededException;

/**
 * Pins and unpins byte ranges, page by page, with a reference count per page.
 *
 * <p>The kernel's {@code mlock} is not counted (mlock(2): "pages locks do not stack"): two locks
 * of a page and one unlock leave it unlocked. So the count lives here. A range is widened to
 * whole pages; this Pinner counts its own references per page, and the process's
 * {@link LockedMemory} counts the Pinners holding each page: a page is locked when the process
 * count goes 0→1 and unlocked when it goes 1→0, and consecutive such pages are locked or unlocked
 * with one call. Two regions that overlap or share a page, in this Pinner or in two of them (two
 * NICs), therefore never double-lock it nor unlock it early.
 *
 * <p>Every page this Pinner holds counts against its own {@link PinBudget} (a sub-budget), and
 * every page locked in the process against the process's (RLIMIT_MEMLOCK); a pin that would pass
 * either fails with {@link PinBudgetExceededException} before any system call (the process one
 * says {@link PinBudgetExceededException#processWide()}). Thread-safe: all Pinners share the
 * process's one monitor, held across the system calls.
 *
 * <p>Kept true: {@link #pinnedBytes()} == pages this Pinner holds × page size, and
 * {@link LockedMemory#lockedBytes()} == pages any Pinner holds × page size, which, when nothing
 * else in the process locks pages, == the kernel's VmLck.
 */
public final class Pinner {
    private static final long PAGE = Libc.pageSize();

    private final PinBudget budget;
    private final LockedPages pages = LockedPages.process();
    private final Object lock = pages.lock;
    /** This Pinner's references per page. Guarded by lock, as everything below. */
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
     * Takes a reference on every page of [address, address+length), locking the pages no Pinner
     * of the process held. All or nothing: on failure no count changes and nothing stays locked.
     *
     * @throws PinBudgetExceededException past this Pinner's budget, or the process's
     *                                    ({@link PinBudgetExceededException#processWide()})
     */
    public void pin(long address, long length) {
        synchronized (lock) {
            long short_ = pinLocked(address, length);
            if (short_ > 0) {
                throw PinBudgetExceededException.processWide(pages.lockedPages() * PAGE, pinnedPages * PAGE, short_,
                        pages.limitBytes(), pages.limitSource());
            }
        }
    }

    /**
     * {@link #pin}, except that a shortfall of the process's budget is returned, not thrown: the
     * bytes the range would newly lock in the process when they do not fit (nothing is pinned
     * then), else 0 and the range is pinned. A pin cache reclaims on it without an exception.
     */
    public long tryPin(long address, long length) {
        synchronized (lock) {
            return pinLocked(address, length);
        }
    }

    private long pinLocked(long address, long length) {
        long first = firstPage(address);
        long end = endPage(address, length);
        long fresh = 0;
        long freshInProcess = 0;
        for (long page = first; page < end; page++) {
            if (counts.get(page) == 0) {
                fresh++;
                if (pages.holders.get(page) == 0) {
                    freshInProcess++;
                }
            }
        }
        if (fresh > 0 && (pinnedPages + fresh) > budget.bytes() / PAGE) {
            throw new PinBudgetExceededException(pinnedPages * PAGE, pinnedPages * PAGE, fresh * PAGE, budget.bytes());
        }
        if (!pages.fits(freshInProcess, budget)) {
            return freshInProcess * PAGE;
        }
        long start = System.nanoTime();
        long runStart = -1;
        try {
            for (long page = first; page < end; page++) {
                if (pages.holders.get(page) == 0) {
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
            // undo the runs locked before the failing one: they are the pages no one holds below runStart
            long failedAt = runStart >= 0 ? runStart : end;
            if (runStart >= 0) {
                // and the failing run itself: mlock can fail part way with the pages before the failure
                // locked (ENOMEM at a hole in the mapping, EAGAIN); munlock stops at the same place
                long runEnd = runStart;
                while (runEnd < end && pages.holders.get(runEnd) == 0) {
                    runEnd++;
                }
                try {
                    Libc.munlock(runStart * PAGE, (runEnd - runStart) * PAGE);
                } catch (KernelException partial) {
                    e.addSuppressed(partial);
                }
            }
            unlockUnheldRuns(first, failedAt);
            throw e;
        }
        long lockedNow = 0;
        for (long page = first; page < end; page++) {
            if (counts.add(page, 1) == 1 && pages.holders.add(page, 1) == 1) {
                lockedNow++;
            }
        }
        pages.locked(lockedNow);
        pinnedPages += fresh;
        peakPinnedPages = Math.max(peakPinnedPages, pinnedPages);
        if (freshInProcess > 0) {
            pinNanos.recordValue(Math.max(0, System.nanoTime() - start));
        }
        return 0;
    }

    /** Drops one reference from every page of the range, unlocking the pages no Pinner holds any more. */
    public void unpin(long address, long length) {
        synchronized (lock) {
            unpinLocked(address, length);
        }
    }

    private void unpinLocked(long address, long length) {
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
        long unlockedNow = 0;
        long runStart = -1;
        for (long page = first; page < end; page++) {
            boolean last = false;
            if (counts.add(page, -1) == 0) {
                freed++;
                last = pages.holders.add(page, -1) == 0;
            }
            if (last) {
                unlockedNow++;
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
        pages.unlocked(unlockedNow);
        if (unlockedNow > 0) {
            unpinNanos.recordValue(Math.max(0, System.nanoTime() - start));
        }
    }

    /** Bytes that pinning the range would newly lock (its pages with no reference yet). */
    public long unpinnedBytesIn(long address, long length) {
        synchronized (lock) {
            return unpinnedPagesIn(firstPage(address), endPage(address, length)) * PAGE;
        }
    }

    /** Whether this Pinner holds the page of {@code address} ({@link LockedMemory#isLocked}: any Pinner). */
    public boolean isPinned(long address) {
        synchronized (lock) {
            return counts.get(address / PAGE) > 0;
        }
    }

    public long pinnedBytes() {
        synchronized (lock) {
            return pinnedPages * PAGE;
        }
    }

    public long peakPinnedBytes() {
        synchronized (lock) {
            return peakPinnedPages * PAGE;
        }
    }

    /** mlock calls made (one per run of pages newly locked in the process). */
    public long lockCalls() {
        synchronized (lock) {
            return lockCalls;
        }
    }

    /** munlock calls made. */
    public long unlockCalls() {
        synchronized (lock) {
            return unlockCalls;
        }
    }

    /** Latency of pins that locked pages, in nanoseconds (a copy). */
    public Histogram pinLatency() {
        synchronized (lock) {
            return pinNanos.copy();
        }
    }

    /** Latency of unpins that unlocked pages, in nanoseconds (a copy). */
    public Histogram unpinLatency() {
        synchronized (lock) {
            return unpinNanos.copy();
        }
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

    private void unlockUnheldRuns(long first, long end) {
        long runStart = -1;
        for (long page = first; page < end; page++) {
            if (pages.holders.get(page) == 0) {
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

    private static long firstPage(long address) {
        return address / PAGE;
    }

    private static long endPage(long address, long length) {
        return (address + length + PAGE - 1) / PAGE;
    }
}
