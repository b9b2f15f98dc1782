package org.unetmm.pinning.internal;

import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.ProcessStatus;

/**
 * The process's page locks as the kernel keeps them: per page the number of {@link Pinner}s
 * holding it, the pages locked, and the budget of the whole process (RLIMIT_MEMLOCK, unbounded
 * under CAP_IPC_LOCK or an infinite limit), read once. The state behind the public view
 * {@link org.unetmm.pinning.LockedMemory}, whose class comment says why it is process-wide.
 *
 * <p>Kept true: a page is locked in the kernel exactly when its count here is positive, because
 * every count change and its {@code mlock}/{@code munlock} happen under {@link #lock}, the one
 * monitor of every Pinner. It is a leaf: nothing under it takes another lock.
 */
public final class LockedPages {
    private static final long PAGE = Libc.pageSize();
    private static final LockedPages PROCESS = new LockedPages();

    /** The monitor of every Pinner of the process, held across the system calls. */
    public final Object lock = new Object();
    /** Per page: how many Pinners hold it. Guarded by lock. */
    public final PageCounts holders = new PageCounts();
    /** Pages with a holder. Guarded by lock. */
    private long lockedPages;
    private long peakLockedPages;
    private final long limitBytes;
    private final String limitSource;

    private LockedPages() {
        if (ProcessStatus.hasCapIpcLock()) {
            limitBytes = Long.MAX_VALUE;
            limitSource = "CAP_IPC_LOCK";
        } else {
            Libc.Rlimit limit = Libc.memlockLimit();
            limitBytes = limit.softUnlimited() ? Long.MAX_VALUE : limit.soft();
            limitSource = limit.softUnlimited() ? "RLIMIT_MEMLOCK=unlimited" : "RLIMIT_MEMLOCK";
        }
    }

    /** The one instance: this process's page locks. */
    public static LockedPages process() {
        return PROCESS;
    }

    /** Bytes the kernel grants this process to lock ({@link Long#MAX_VALUE} when unbounded); may be 0. */
    public long limitBytes() {
        return limitBytes;
    }

    /** Where {@link #limitBytes()} came from: RLIMIT_MEMLOCK, RLIMIT_MEMLOCK=unlimited or CAP_IPC_LOCK. */
    public String limitSource() {
        return limitSource;
    }

    /** Pages locked now by every Pinner of the process, each page once. Caller holds lock. */
    public long lockedPages() {
        return lockedPages;
    }

    /** The most pages locked at once. Caller holds lock. */
    public long peakLockedPages() {
        return peakLockedPages;
    }

    /**
     * Whether {@code fresh} newly locked pages fit the process budget. They always do for a
     * pinner whose own budget is unlimited (an explicit opt-out: the kernel judges, and its
     * refusal surfaces as a {@link org.unetmm.pinning.MemlockLimitException}) and when the limit
     * is 0 (the kernel's EPERM names CAP_IPC_LOCK, which a budget could not). Caller holds lock.
     */
    public boolean fits(long fresh, PinBudget pinnerBudget) {
        return fresh == 0 || lockedPages + fresh <= limitBytes / PAGE || pinnerBudget.isUnlimited() || limitBytes == 0;
    }

    /** Counts {@code pages} newly locked in the kernel. Caller holds lock. */
    public void locked(long pages) {
        lockedPages += pages;
        peakLockedPages = Math.max(peakLockedPages, lockedPages);
    }

    /** Counts {@code pages} unlocked in the kernel. Caller holds lock. */
    public void unlocked(long pages) {
        lockedPages -= pages;
    }

    /** Pages the process budget still has room for (negative when over it). */
    public long roomPages() {
        synchronized (lock) {
            return limitBytes / PAGE - lockedPages;
        }
    }
}
