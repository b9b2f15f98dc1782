package org.unetmm.pinning;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.pinning.internal.LockedPages;
import org.unetmm.pinning.internal.Pinner;

/**
 * The process's locked memory, kept as the kernel keeps it: one reference count per page and one
 * budget for the whole process, shared by every {@link Pinner}, so by every {@link PinCache} and
 * every NIC of the JVM (DESIGN §3, pinning).
 *
 * <p><b>Why process-wide.</b> {@code mlock(2)} locks pages of the address space, not of a caller:
 * locks do not stack, and RLIMIT_MEMLOCK bounds the memory the whole process has locked
 * ({@code mm->locked_vm}), whoever locked it. Two NICs counting their own pages would each unlock
 * a page they share when their own count reached zero, under the other's feet; and each would
 * take RLIMIT_MEMLOCK for its budget, together twice what the kernel grants, so their pins
 * would fail with ENOMEM instead of making room.
 *
 * <p><b>Counts</b> (kept in {@link LockedPages}). Each {@link Pinner} counts its own references per page (its sub-budget and its
 * {@link Pinner#pinnedBytes()} are its own pages); here a page's count is the number of Pinners
 * holding it. The page is locked when that goes 0→1 and unlocked when it goes 1→0. One monitor
 * guards these counts and every Pinner's state, and is held across the {@code mlock} or
 * {@code munlock}, so a page's count and its lock state change together. It is a leaf: nothing
 * under it takes another lock.
 *
 * <p><b>Budget.</b> The RLIMIT_MEMLOCK soft limit, read when this class is first used; unbounded
 * under CAP_IPC_LOCK or an infinite limit. A cache's own {@link PinBudget} is a sub-budget inside
 * it, so an experiment may still give one NIC less.
 *
 * <p><b>Reclaim.</b> When a pin would pass the process budget, the cache that wants the room
 * first unpins idle regions of its own (it holds its own monitor then), then, with no cache
 * monitor held, asks {@link #reclaim}: idle regions of the other caches, coldest first (each
 * cache offers the coldest by its own policy; of those, the one released longest ago goes), then
 * the other caches' {@link PinReclaimer}s (a NIC's gives up translations its TLB holds, whose pins
 * then go idle), then idle regions again. Other caches' monitors are taken one at a time and
 * briefly (a cache monitor is held over nothing but this class's monitor and Caffeine), and a
 * reclaimer never blocks: the caller may hold NIC engine locks, so a NIC try-locks its own and
 * gives up when it is busy. Hence no cycle: reclaim waits only on leaves.
 */
public final class LockedMemory {
    private static final long PAGE = Libc.pageSize();
    private static final LockedMemory PROCESS = new LockedMemory();

    private final LockedPages pages = LockedPages.process();
    private final List<PinCache> caches = new CopyOnWriteArrayList<>();

    private LockedMemory() {
    }

    /** {@return the one instance: this process's locked memory} */
    public static LockedMemory process() {
        return PROCESS;
    }

    /** {@return bytes the kernel grants this process to lock ({@link Long#MAX_VALUE} when unbounded); may be 0} */
    public long limitBytes() {
        return pages.limitBytes();
    }

    /** {@return where {@link #limitBytes()} came from: RLIMIT_MEMLOCK, RLIMIT_MEMLOCK=unlimited or CAP_IPC_LOCK} */
    public String limitSource() {
        return pages.limitSource();
    }

    /** {@return bytes locked now by every Pinner of the process, each page once: what the kernel's VmLck shows} */
    public long lockedBytes() {
        synchronized (pages.lock) {
            return pages.lockedPages() * PAGE;
        }
    }

    /** {@return the most bytes {@link #lockedBytes()} has been since the process started} */
    public long peakLockedBytes() {
        synchronized (pages.lock) {
            return pages.peakLockedPages() * PAGE;
        }
    }

    /**
     * {@return whether some Pinner of the process holds the page of {@code address}}
     *
     * @param address any address in the page
     */
    public boolean isLocked(long address) {
        synchronized (pages.lock) {
            return pages.holders.get(address / PAGE) > 0;
        }
    }

    /** The caches that take part in reclaim (open ones). */
    int cacheCount() {
        return caches.size();
    }

    void register(PinCache cache) {
        caches.add(cache);
    }

    void deregister(PinCache cache) {
        caches.remove(cache);
    }

    /**
     * Makes room for {@code bytes} more locked bytes for {@code requester}, which holds no cache
     * monitor: idle regions of the other caches (coldest first), then their reclaimers, then idle
     * regions again. Best effort: another pin may take the room before the requester retries.
     */
    void reclaim(PinCache requester, long bytes) {
        long wanted = (bytes + PAGE - 1) / PAGE;
        if (evictIdleOfOthers(requester, wanted)) {
            return;
        }
        for (PinCache cache : caches) {
            if (cache != requester) {
                cache.runReclaimers(bytes);
            }
        }
        evictIdleOfOthers(requester, wanted);
    }

    /** Evicts other caches' idle regions, the longest idle first, until {@code wanted} pages fit. */
    private boolean evictIdleOfOthers(PinCache requester, long wanted) {
        // bounded: each round evicts one region, and at most the regions idle now plus as many again
        long rounds = 0;
        for (PinCache cache : caches) {
            if (cache != requester) {
                rounds += cache.idleRegions();
            }
        }
        for (long round = 0; round <= 2 * rounds; round++) {
            if (pages.roomPages() >= wanted) {
                return true;
            }
            PinCache coldest = null;
            long oldest = Long.MAX_VALUE;
            for (PinCache cache : caches) {
                if (cache != requester) {
                    long since = cache.coldestIdleSince();
                    if (since < oldest) {
                        oldest = since;
                        coldest = cache;
                    }
                }
            }
            if (coldest == null || !coldest.evictColdestIdle()) {
                break;
            }
        }
        return pages.roomPages() >= wanted;
    }

    @Override
    public String toString() {
        return "LockedMemory[" + lockedBytes() + " bytes locked, limit "
                + (limitBytes() == Long.MAX_VALUE ? "unlimited" : limitBytes() + " bytes") + " (" + limitSource() + "), "
                + caches.size() + " caches]";
    }
}
