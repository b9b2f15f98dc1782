package org.unetmm.pinning;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.pinning.internal.Pinner;

/**
 * The on-demand pin cache: U-Net/MM's kernel side, pinning any user buffer when the NIC first
 * needs it and keeping it pinned while it is likely to be needed again.
 *
 * <p>A region is the set of whole pages an {@link #acquire} touches. A region in use has a
 * reference count (one per live {@link PinHandle}) and is never unpinned. When its count falls
 * to zero it becomes <em>idle</em>: still locked, and kept in a Caffeine cache weighed in pages.
 * A later acquire of the same pages takes it back without a system call (a hit), and it leaves
 * Caffeine while it is in use again. Caffeine's eviction (W-TinyLFU) unpins idle regions; this is
 * the lazy deregistration of UCX's rcache and libfabric's MR cache. Pages shared by several
 * regions, or by regions of several caches (two NICs), are counted by the {@link Pinner} and the
 * process's {@link LockedMemory}, so they are locked once and unlocked last.
 *
 * <p><b>Two bounds.</b> The budget bounds idle and in-use pages together: when a pin would pass
 * it, idle regions are unpinned first, synchronously, coldest first, so the caller sees the room
 * at once; if the regions in use alone leave no room the acquire fails with
 * {@link PinBudgetExceededException}. The budget is a sub-budget of the process's
 * (RLIMIT_MEMLOCK, shared by every cache): when that one is short, this cache unpins its own idle
 * regions, then asks {@link LockedMemory} to reclaim from the other caches (their idle regions,
 * then their {@link PinReclaimer}s) and tries once more. Idle regions alone are bounded too, by
 * {@link PinCacheConfig#maxIdleBytes()} (Caffeine's maximum weight) and
 * {@link PinCacheConfig#maxIdleRegions()}, even when the kernel would let the process lock
 * without limit (see {@link PinCacheConfig} for the defaults and why): past the cap the coldest
 * idle region is unpinned and forgets its buffer, so dead buffers go to the collector.
 *
 * <p><b>Why an idle region holds its buffer.</b> A direct buffer that is collected has its memory
 * freed by its cleaner, and the pages may go back to the kernel (munmap unlocks them, VmLck drops
 * while this cache still counts them) or to the allocator for a new buffer at the same address
 * (which a pin would then count as locked without its having been locked). Either breaks the
 * accounting, and nothing runs before the cleaner to tell this cache. So an idle region keeps its
 * buffer strongly reachable until it is unpinned, and the idle cap is what hands it back.
 *
 * <p>Listeners ({@link PinListener}) hear of every invalidation before it happens and of every
 * unpin just before its munlock. {@link #invalidate} unpins idle regions of a range at once and
 * defers regions in use until their last release; freeing {@link NativeMemory} refuses while a
 * region over it is in use.
 *
 * <p>Thread-safe: one monitor guards the regions; hits take it but make no system call. Under it
 * the cache takes only the process's {@link LockedMemory} monitor (in the Pinner) and Caffeine's
 * own; it never calls another cache or a reclaimer while holding it.
 */
public final class PinCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PinCache.class);
    /** Release order across every cache of the process: the coldest idle region is the lowest. */
    private static final AtomicLong RELEASES = new AtomicLong();
    /** The idle cap is news once per process, not per eviction. */
    private static final AtomicBoolean IDLE_CAP_LOGGED = new AtomicBoolean();

    private final Pinner pinner;
    private final LockedMemory memory = LockedMemory.process();
    private final long budgetPages;
    private final long maxIdleBytes;
    private final int maxIdleRegions;
    /** Every pinned region, in use or idle. */
    private final Map<PageRange, Region> regions = new HashMap<>();
    /** Caffeine's view: the idle regions. */
    private final Cache<PageRange, Region> lru;
    private final List<PinListener> listeners = new CopyOnWriteArrayList<>();
    private final List<PinReclaimer> reclaimers = new CopyOnWriteArrayList<>();
    private final NativeMemory.FreeListener freeListener = this::beforeFree;
    private int inUseCount;
    private long idlePages;
    private long hits;
    private long misses;
    private long evictions;
    private long invalidations;
    private boolean closed;

    /** A pinned region. Guarded by the cache's monitor. */
    static final class Region {
        final PageRange range;
        ByteBuffer owner;
        int references;
        boolean idle;
        boolean inCaffeine;
        boolean removing;
        boolean doomed;
        /** When it last became idle, in {@link #RELEASES} order. */
        long idleSince;

        Region(PageRange range, ByteBuffer owner) {
            this.range = range;
            this.owner = owner;
        }
    }

    /**
     * A cache with its own budget and idle caps, registered with the process's {@link LockedMemory}; close it when
     * done.
     *
     * @param config the budget and idle caps
     */
    public PinCache(PinCacheConfig config) {
        this.pinner = new Pinner(config.budget());
        long page = NativeMemory.pageSize();
        this.budgetPages = config.budget().isUnlimited() ? Long.MAX_VALUE / page : config.budget().bytes() / page;
        this.maxIdleBytes = config.maxIdleBytes();
        this.maxIdleRegions = config.maxIdleRegions();
        this.lru = Caffeine.newBuilder()
                .maximumWeight(config.maxIdleBytes() / page)
                .weigher((PageRange range, Region region) -> (int) Math.min(Integer.MAX_VALUE, range.pageCount()))
                .executor(Runnable::run)
                .removalListener((PageRange range, Region region, RemovalCause cause) -> onRemoved(region, cause))
                .build();
        NativeMemory.addFreeListener(freeListener);
        memory.register(this);
    }

    /**
     * A cache with the process's default budget (RLIMIT_MEMLOCK; unbounded under CAP_IPC_LOCK).
     *
     * @return a new cache; the caller closes it
     */
    public static PinCache create() {
        return new PinCache(PinCacheConfig.defaults());
    }

    /** {@return this cache's own budget, a sub-budget of the process's} */
    public PinBudget budget() {
        return pinner.budget();
    }

    /**
     * Registers {@code listener} to hear of every invalidation and unpin of this cache.
     *
     * @param listener not null; called on the thread that causes the event
     */
    public void addListener(PinListener listener) {
        listeners.add(listener);
    }

    /**
     * Stops telling {@code listener}; one not registered is ignored.
     *
     * @param listener one passed to {@link #addListener}
     */
    public void removeListener(PinListener listener) {
        listeners.remove(listener);
    }

    /**
     * Registers what gives up pins of this cache's user when another cache of the process needs
     * locked memory (a NIC: its TLB's translations). It must not block; see {@link PinReclaimer}.
     *
     * @param reclaimer not null; must not block
     */
    public void addReclaimer(PinReclaimer reclaimer) {
        reclaimers.add(reclaimer);
    }

    /**
     * Stops asking {@code reclaimer}; one not registered is ignored.
     *
     * @param reclaimer one passed to {@link #addReclaimer}
     */
    public void removeReclaimer(PinReclaimer reclaimer) {
        reclaimers.remove(reclaimer);
    }

    /**
     * Pins the whole of a direct buffer's capacity; see {@link #acquire(ByteBuffer, int, int)} for what it throws.
     *
     * @param buffer a direct buffer
     * @return a handle holding the pages; the caller owns it and must release it
     */
    public PinHandle acquire(ByteBuffer buffer) {
        return acquire(buffer, 0, buffer.capacity());
    }

    /**
     * Pins {@code length} bytes of library-allocated memory from {@code offset}; refuses freed memory.
     *
     * @param memory memory from {@link NativeMemory#allocate}, not closed
     * @param offset index of the first byte within it
     * @param length bytes, positive
     * @return a handle holding the pages; the caller owns it and must release it
     * @throws UnpinnableBufferException if the memory was freed
     */
    public PinHandle acquire(NativeBuffer memory, int offset, int length) {
        if (memory.isFreed()) {
            throw new UnpinnableBufferException("cannot pin freed NativeBuffer memory at 0x"
                    + Long.toHexString(memory.address()) + ": allocate a new one");
        }
        return acquire(memory.buffer(), offset, length);
    }

    /**
     * Pins the pages under {@code length} bytes of a direct buffer from {@code offset} (absolute,
     * independent of position and limit) and returns a handle holding them. The caller owns the
     * handle and must release it.
     *
     * @throws UnpinnableBufferException  for a heap buffer
     * @throws IndexOutOfBoundsException  if the range is not inside the buffer's capacity
     * @throws IllegalArgumentException   if {@code length} is not positive
     * @throws PinBudgetExceededException if regions in use leave no room in the budget
     * @throws KernelException            if the kernel refuses the lock (see its subclasses)
     * @throws IllegalStateException      after {@link #close()}
     * @param buffer a direct buffer
     * @param offset absolute index of the first byte
     * @param length bytes, positive
     * @return a handle holding the pages; the caller owns it and must release it
     */
    public PinHandle acquire(ByteBuffer buffer, int offset, int length) {
        long address = checkedAddress(buffer, offset, length);
        PageRange range = PageRange.of(address, length);
        Region region = acquireRegion(range, buffer, false);
        if (region == null) {
            // other caches of the process hold the room: reclaim from them, holding no cache monitor
            memory.reclaim(this, pinner.unpinnedBytesIn(range.address(), range.length()));
            region = acquireRegion(range, buffer, true);
        }
        return new PinHandle(this, region, buffer, address, length);
    }

    /** The region, pinned; null when the process is short and {@code last} is false (the caller reclaims). */
    private synchronized Region acquireRegion(PageRange range, ByteBuffer buffer, boolean last) {
        if (closed) {
            throw new IllegalStateException("pin cache is closed: create a new PinCache to pin again");
        }
        Region region = regions.get(range);
        if (region != null) {
            hits++;
            if (region.references++ == 0) {
                inUseCount++;
                region.owner = buffer;
                leaveIdle(region);
            }
            return region;
        }
        makeRoom(range);
        long shortfall = pinner.tryPin(range.address(), range.length());
        while (shortfall > 0 && evictColdestIdleLocked()) { // the process is short: our own idle regions go first
            shortfall = pinner.tryPin(range.address(), range.length());
        }
        if (shortfall > 0) {
            if (!last) {
                return null;
            }
            throw PinBudgetExceededException.processWide(memory.lockedBytes(), pinner.pinnedBytes(), shortfall,
                    memory.limitBytes(), memory.limitSource());
        }
        misses++;
        region = new Region(range, buffer);
        region.references = 1;
        inUseCount++;
        regions.put(range, region);
        return region;
    }

    void release(PinHandle handle) {
        Region region = handle.region();
        synchronized (this) {
            if (--region.references > 0) {
                return;
            }
            inUseCount--;
            if (closed || region.doomed) {
                if (region.doomed) {
                    invalidations++;
                }
                remove(region, closed ? UnpinCause.CLOSED : UnpinCause.INVALIDATED);
                if (closed && inUseCount == 0) {
                    // the last region in use after close: nothing left for a free to wait for
                    NativeMemory.removeFreeListener(freeListener);
                }
            } else {
                becomeIdle(region);
            }
        }
    }

    /** The region's last reference went: it waits in Caffeine, within the idle caps. Caller holds the monitor. */
    private void becomeIdle(Region region) {
        region.idle = true;
        region.idleSince = RELEASES.incrementAndGet();
        idlePages += region.range.pageCount();
        region.inCaffeine = true;
        lru.put(region.range, region); // past maxIdleBytes Caffeine evicts at once (onRemoved, cause SIZE)
        while (regions.size() - inUseCount > maxIdleRegions && evictColdestIdleLocked()) {
            idleCapReached();
        }
    }

    /** An idle region is in use again: it leaves Caffeine (whose weight is idle pages). Caller holds the monitor. */
    private void leaveIdle(Region region) {
        region.idle = false;
        idlePages -= region.range.pageCount();
        if (region.inCaffeine) {
            region.inCaffeine = false;
            lru.invalidate(region.range); // onRemoved sees a region in use and leaves it pinned
        }
    }

    /**
     * Drops the pins of every region touching [address, address+length): listeners drop their
     * translations first, idle regions are unpinned at once, and regions in use are unpinned at
     * their last release instead of becoming idle.
     *
     * @return how many regions in use were deferred (0 means the range holds no pins now)
     * @param address first byte of the range
     * @param length  bytes, positive
     */
    public int invalidate(long address, long length) {
        PageRange range = PageRange.of(address, length);
        for (PinListener listener : listeners) {
            listener.onInvalidate(range.address(), range.length());
        }
        synchronized (this) {
            dropIdle(range, UnpinCause.INVALIDATED);
            int deferred = 0;
            for (Region region : regions.values()) {
                if (region.references > 0 && region.range.overlaps(range)) {
                    region.doomed = true;
                    deferred++;
                }
            }
            return deferred;
        }
    }

    private void beforeFree(long address, long length) {
        PageRange range = PageRange.of(address, length);
        for (PinListener listener : listeners) {
            listener.onInvalidate(range.address(), range.length());
        }
        synchronized (this) {
            int busy = 0;
            for (Region region : regions.values()) {
                if (region.references > 0 && region.range.overlaps(range)) {
                    busy++;
                }
            }
            if (busy > 0) {
                throw new PinInUseException("cannot free " + length + " bytes at 0x" + Long.toHexString(address)
                        + ": " + busy + " pinned region(s) over it are in use; wait for their completions"
                        + " (or release their handles), then free");
            }
            dropIdle(range, UnpinCause.INVALIDATED);
        }
    }

    /**
     * A snapshot of the counters.
     *
     * @return the counters now, copied
     */
    public synchronized PinStats stats() {
        return new PinStats(hits, misses, evictions, invalidations, pinner.pinnedBytes(), pinner.peakPinnedBytes(),
                pinner.lockCalls(), pinner.unlockCalls(), inUseCount, regions.size() - inUseCount,
                pinner.pinLatency(), pinner.unpinLatency());
    }

    /**
     * Bytes locked now (idle and in use), as the kernel should count them.
     *
     * @return bytes this cache holds locked
     */
    public long pinnedBytes() {
        return pinner.pinnedBytes();
    }

    /** {@return regions with at least one live {@link PinHandle}} */
    public synchronized int inUseRegions() {
        return inUseCount;
    }

    /** {@return regions released and still locked, kept for a hit} */
    public synchronized int idleRegions() {
        return regions.size() - inUseCount;
    }

    /**
     * Pages of idle regions × page size (a page two idle regions share counts twice, as Caffeine weighs it).
     *
     * @return idle pages times the page size
     */
    public synchronized long idleBytes() {
        return idlePages * NativeMemory.pageSize();
    }

    /**
     * Whether the page holding {@code address} is locked by this cache.
     *
     * @param address any address in the page
     * @return whether this cache holds that page locked
     */
    public boolean isPinned(long address) {
        return pinner.isPinned(address);
    }

    /** Unpins every idle region now (an explicit trim, e.g. between experiment runs). */
    public synchronized void evictIdle() {
        for (Region region : new ArrayList<>(regions.values())) {
            if (region.references == 0) {
                evicted(region);
            }
        }
    }

    /**
     * Runs Caffeine's pending maintenance (its eviction decisions) now. Under the cache's monitor,
     * as every other use of the Caffeine cache: its evictions call back into {@link #onRemoved},
     * which takes the monitor, so taking Caffeine's eviction lock first could deadlock.
     */
    public synchronized void cleanUp() {
        lru.cleanUp();
    }

    /**
     * Unpins every idle region and refuses further acquires. Regions still in use stay pinned
     * until their handles are released (a page is never unpinned under a user), then unpin at once;
     * until then freeing {@link NativeMemory} under them is still refused.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Region region : new ArrayList<>(regions.values())) {
                if (region.references == 0) {
                    remove(region, UnpinCause.CLOSED);
                }
            }
            if (inUseCount == 0) {
                NativeMemory.removeFreeListener(freeListener);
            }
        }
        reclaimers.clear();
        memory.deregister(this);
    }

    /** {@return whether {@link #close()} has run} */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** Unpins idle regions, coldest first, until the range fits this cache's own budget. */
    private void makeRoom(PageRange range) {
        long page = NativeMemory.pageSize();
        long needed = pinner.unpinnedBytesIn(range.address(), range.length()) / page;
        long pinned = pinner.pinnedBytes() / page;
        while (pinned + needed > budgetPages && evictColdestIdleLocked()) {
            needed = pinner.unpinnedBytesIn(range.address(), range.length()) / page;
            pinned = pinner.pinnedBytes() / page;
        }
        if (pinned + needed > budgetPages) {
            throw new PinBudgetExceededException(pinned * page, inUseBytes(), needed * page, pinner.budget().bytes());
        }
    }

    /** The coldest idle region by Caffeine's policy, or null. Caller holds the monitor. */
    private Region coldestIdle() {
        if (regions.size() == inUseCount) {
            return null;
        }
        Region victim = lru.policy().eviction().orElseThrow().coldest(entries -> entries
                .map(e -> e.getValue()).filter(r -> r.references == 0).findFirst().orElse(null));
        if (victim == null) {
            // idle regions that Caffeine does not hold (cannot happen: released regions go in)
            victim = regions.values().stream().filter(r -> r.references == 0).findFirst().orElse(null);
        }
        return victim;
    }

    private boolean evictColdestIdleLocked() {
        Region victim = coldestIdle();
        if (victim == null) {
            return false;
        }
        evicted(victim);
        return true;
    }

    /** For {@link LockedMemory#reclaim}: when this cache's coldest idle region went idle (MAX_VALUE: none). */
    synchronized long coldestIdleSince() {
        Region victim = coldestIdle();
        return victim == null ? Long.MAX_VALUE : victim.idleSince;
    }

    /** For {@link LockedMemory#reclaim}: another cache needs room; unpins this cache's coldest idle region. */
    synchronized boolean evictColdestIdle() {
        return evictColdestIdleLocked();
    }

    /** For {@link LockedMemory#reclaim}: asks this cache's reclaimers for pins. Called holding no cache monitor. */
    void runReclaimers(long bytes) {
        for (PinReclaimer reclaimer : reclaimers) {
            try {
                reclaimer.reclaim(bytes);
            } catch (RuntimeException e) {
                // another cache's pin must not fail because this one's user could not give up pins
                LOG.warn("pin reclaimer {} failed; its pins stay", reclaimer, e);
            }
        }
    }

    private void idleCapReached() {
        if (IDLE_CAP_LOGGED.compareAndSet(false, true)) {
            LOG.info("idle pin cap reached: {} idle regions, {} bytes idle (caps {} bytes, {} regions);"
                    + " from now on the coldest idle pins are unpinned and their buffers can be collected."
                    + " Raise PinCacheConfig.maxIdleBytes/maxIdleRegions to keep more pinned for reuse.",
                    regions.size() - inUseCount, idlePages * NativeMemory.pageSize(), maxIdleBytes, maxIdleRegions);
        }
    }

    private long inUseBytes() {
        Set<Long> pages = new HashSet<>();
        for (Region region : regions.values()) {
            if (region.references > 0) {
                for (long p = region.range.firstPage(); p < region.range.endPage(); p++) {
                    pages.add(p);
                }
            }
        }
        return pages.size() * NativeMemory.pageSize();
    }

    private void dropIdle(PageRange range, UnpinCause cause) {
        for (Region region : new ArrayList<>(regions.values())) {
            if (region.references == 0 && region.range.overlaps(range)) {
                remove(region, cause);
                if (cause == UnpinCause.INVALIDATED) {
                    invalidations++;
                }
            }
        }
    }

    /** An idle region unpinned by the cache's own choice (budget pressure or a trim): an eviction. */
    private void evicted(Region region) {
        evictions++;
        remove(region, UnpinCause.EVICTED);
    }

    /** Caffeine removed a region: by its size policy (the idle byte cap), or because we invalidated it. */
    private void onRemoved(Region region, RemovalCause cause) {
        synchronized (this) {
            region.inCaffeine = false;
            if (!cause.wasEvicted() || region.removing || region.references > 0) {
                return; // removed by us: being unpinned, or in use again
            }
            evictions++;
            idleCapReached();
            remove(region, UnpinCause.EVICTED);
        }
    }

    /** Forgets an idle region and unpins its pages (listeners first). */
    private void remove(Region region, UnpinCause cause) {
        if (region.removing) {
            return;
        }
        region.removing = true;
        regions.remove(region.range);
        if (region.idle) {
            region.idle = false;
            idlePages -= region.range.pageCount();
        }
        if (region.inCaffeine) {
            lru.invalidate(region.range);
            region.inCaffeine = false;
        }
        for (PinListener listener : listeners) {
            listener.beforeUnpin(region.range.address(), region.range.length(), cause);
        }
        pinner.unpin(region.range.address(), region.range.length());
        region.owner = null;
    }

    private static long checkedAddress(ByteBuffer buffer, int offset, int length) {
        long base = NativeMemory.address(buffer);
        if (length <= 0) {
            throw new IllegalArgumentException("cannot pin " + length + " bytes: length must be positive");
        }
        if (offset < 0 || offset > buffer.capacity() - length) {
            throw new IndexOutOfBoundsException("cannot pin " + length + " bytes at offset " + offset
                    + " of a buffer of capacity " + buffer.capacity() + ": the range must lie inside the buffer");
        }
        return base + offset;
    }
}
