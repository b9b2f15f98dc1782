package org.unetmm.tlb;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import org.HdrHistogram.Histogram;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinHandle;
import org.unetmm.pinning.PinBudgetExceededException;
import org.unetmm.pinning.PinListener;
import org.unetmm.tlb.internal.PinningMissHandler;
import org.unetmm.tlb.internal.Replacement;
import org.unetmm.tlb.internal.TranslationTable;

/**
 * The NIC-resident TLB of U-Net/MM (Welsh, Basu, von Eicken, "Incorporating Memory Management
 * into User-Level Network Interfaces", Hot Interconnects 1997): {@code sets × ways} translations
 * of user pages, tagged by (context, virtual page number), consulted for every page the NIC
 * touches. A miss traps into the {@link MissHandler} (the kernel), which pins the page and returns
 * its frame; the TLB inserts it, displacing a victim chosen by the {@link ReplacementPolicy}.
 *
 * <p><b>An entry holds a pin.</b> A page whose translation is in the TLB is pinned: the entry owns
 * the {@link PinHandle} its miss returned, and releases it exactly once, when the entry is evicted
 * or shot down, or at {@link #close()}. Released, the page goes idle in the {@link PinCache} and is
 * unlocked only when the cache evicts it (lazy deregistration). Every translation is invalidated
 * (with release ordering) before its pin is released, never after, so the invariant holds at every
 * instant, not just between calls. While a miss is being inserted the TLB holds one pin more than
 * it has entries.
 *
 * <p><b>Threading contract.</b> One thread at a time, the NIC thread, calls {@link #lookup} and
 * {@link #prefetch} (a different thread may take over if the hand-over is a happens-before edge,
 * e.g. a lock or a queue). Shootdowns ({@link #invalidate}, {@link #invalidateContext},
 * {@link #closeContext}, the pin cache's {@link PinListener#onInvalidate}), {@link #openContext},
 * {@link #stats()} and {@link #close()} may come from any thread at any time.
 *
 * <p><b>The hit path takes no lock and allocates nothing.</b> The entry table
 * ({@link TranslationTable}, whose layout is drawn there) is written by the NIC thread, except the
 * valid bit of each entry's tag, which a shootdown clears. The NIC thread publishes a fill with a
 * release store of the tag; a shootdown clears it with a release store, under this TLB's lock; a
 * lookup reads it with one acquire load. So a lookup that begins after an invalidation returned
 * (after in the happens-before sense: the invalidating thread told the NIC thread by any
 * synchronizing means) reads the cleared bit and misses: no stale hit. A lookup racing with the
 * invalidation may still return the old frame; it is concurrent with it, exactly as a DMA already
 * under way is when a real shootdown is issued.
 *
 * <p><b>The miss path cannot insert a stale translation either.</b> The handler runs without the
 * lock (it may take milliseconds to mlock), so an invalidation of the very page can run while it
 * does. The NIC thread therefore announces its miss (context, page) under the lock before calling
 * the handler; a shootdown that covers the announced page marks it; the NIC thread inserts under
 * the lock only if the mark is absent, and otherwise releases the pin and asks the handler again.
 * This is the protocol of Linux's mmu_interval_notifier (mmu_interval_read_begin / _retry), used
 * by on-demand-paging RDMA drivers for the same race. Retries are counted in {@link TlbStats}.
 *
 * <p><b>Attaching to a pin cache.</b> A TLB built with {@link MissHandler#pinning} subscribes to
 * its cache's shootdowns at construction; {@link #attach(PinCache)} subscribes to any other cache a
 * custom handler pins through. {@link PinCache#invalidate} and freeing {@link NativeMemory} then
 * drop this TLB's translations of the range, and release their pins, before the cache unpins.
 * {@link #over} builds the usual pairing in one call. The TLB never takes a pin cache's lock
 * while holding its own (pins are released after it is dropped), so a {@link PinListener} may
 * query the TLB, e.g. {@link #contains}, even from under the cache's lock.
 *
 * <p>Contexts are ids from {@link #openContext()}, one per endpoint; ids are never reused, so a
 * stale id is refused ({@link UnknownContextException}) instead of translating another endpoint's
 * pages.
 */
public final class Tlb implements AutoCloseable {
    private static final int PAGE_SHIFT = Long.numberOfTrailingZeros(NativeMemory.pageSize());
    private static final VarHandle HITS;
    private static final VarHandle MISSES;
    private static final VarHandle PREFETCHES;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HITS = lookup.findVarHandle(Tlb.class, "hits", long.class);
            MISSES = lookup.findVarHandle(Tlb.class, "misses", long.class);
            PREFETCHES = lookup.findVarHandle(Tlb.class, "prefetches", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final TlbConfig config;
    private final MissHandler missHandler;
    private final TranslationTable table;
    private final Replacement replacement;
    private final Object lock = new Object();
    private final PinListener shootdownListener = new PinListener() {
        @Override
        public void onInvalidate(long address, long length) {
            shootDownAllContexts(address, length);
        }
    };

    /** Hears of every lookup, or null; see {@link #record}. Read by the NIC thread with a plain load. */
    private AccessRecorder recorder;

    // Written by the NIC thread only, with opaque stores so stats() reads whole values.
    private long hits;
    private long misses;
    private long prefetches;

    // Guarded by lock.
    private final PinHandle[] pins;
    private final BitSet openContexts = new BitSet();
    private final List<PinCache> attached = new ArrayList<>();
    private final Histogram missNanos = new Histogram(3);
    private int nextContext;
    private boolean closed;
    private long evictions;
    private long shootdowns;
    private long retries;
    /** Where the next search for a translation to give up under pin-budget pressure starts. */
    private int shedCursor;
    /** The miss in flight: announced before the handler runs, marked by an overlapping shootdown. */
    private boolean missPending;
    private int pendingContext;
    private long pendingPage;
    private boolean pendingShotDown;

    /**
     * A TLB of the given shape whose misses call {@code missHandler}. With
     * {@link MissHandler#pinning} the TLB attaches to its cache's shootdowns at once.
     *
     * @param config      the shape and policy
     * @param missHandler called on every miss, on the NIC thread
     */
    public Tlb(TlbConfig config, MissHandler missHandler) {
        this.config = Objects.requireNonNull(config, "config: TlbConfig.builder()...build()");
        this.missHandler = Objects.requireNonNull(missHandler,
                "missHandler: MissHandler.pinning(cache, translator), or MissHandler.unpinned() for trace runs");
        this.table = new TranslationTable(config);
        this.replacement = Replacement.of(table, config);
        this.pins = new PinHandle[config.entries()];
        if (missHandler instanceof PinningMissHandler pinning) {
            attach(pinning.cache());
        }
    }

    /**
     * A TLB over a pin cache: {@link MissHandler#pinning} of the cache and translator, attached.
     *
     * @param config     the shape and policy
     * @param cache      the pin cache misses pin through; the TLB does not own it
     * @param translator where the frames come from; the TLB does not own it
     * @return the TLB, attached to the cache's shootdowns; the caller closes it
     */
    public static Tlb over(TlbConfig config, PinCache cache, PageTranslator translator) {
        return new Tlb(config, new PinningMissHandler(cache, translator));
    }

    /**
     * Subscribes this TLB to a pin cache's shootdowns, so invalidating or freeing memory there
     * drops its translations here first. Idempotent; undone by {@link #close()}.
     *
     * @param cache the cache whose invalidations and frees this TLB must hear of
     */
    public void attach(PinCache cache) {
        Objects.requireNonNull(cache, "cache");
        synchronized (lock) {
            requireNotClosed();
            if (!attached.contains(cache)) {
                attached.add(cache);
                cache.addListener(shootdownListener);
            }
        }
    }

    // ------------------------------------------------------------------ contexts

    /** {@return a new context id (one per endpoint); ids are never reused} Any thread. */
    public int openContext() {
        synchronized (lock) {
            requireNotClosed();
            if (nextContext == Integer.MAX_VALUE) {
                throw new IllegalStateException("this TLB has handed out every context id: create a new Tlb");
            }
            int context = nextContext++;
            openContexts.set(context);
            return context;
        }
    }

    /**
     * Drops every translation of the context, releasing their pins, and forgets the id: later use
     * of it is refused. Any thread; a no-op after {@link #close()}.
     *
     * @throws UnknownContextException if the context is not open
     * @param context an id from {@link #openContext()}
     */
    public void closeContext(int context) {
        List<PinHandle> released;
        synchronized (lock) {
            if (closed) {
                return;
            }
            requireOpen(context);
            released = shootDown(context, 0, Long.MAX_VALUE);
            openContexts.clear(context);
        }
        releaseAll(released);
    }

    // ------------------------------------------------------------------ translation (NIC thread)

    /**
     * The frame of the page holding {@code address}. A hit takes no lock and allocates nothing; a
     * miss calls the {@link MissHandler} with {@code owner} (the buffer holding the address, which
     * the pinning handler pins through; it is not consulted on a hit), inserts the translation
     * and releases the pin of the entry it displaces. NIC thread only.
     *
     * @throws BadAddressException     if the address is negative, or (on a miss) outside {@code owner}
     * @throws UnknownContextException if the context is not open (found on a miss: a closed
     *                                 context has no entries to hit)
     * @throws IllegalStateException   after {@link #close()}
     * @throws RuntimeException        whatever the handler throws (e.g. the pin budget ran out);
     *                                 nothing is inserted then
     * @param context an open context id
     * @param owner   the direct buffer holding {@code address}; may be null for a handler that ignores it
     * @param address a virtual address, not negative
     * @return the frame number of its page
     */
    public long lookup(int context, ByteBuffer owner, long address) {
        if (address < 0) {
            throw BadAddressException.negative(address);
        }
        long page = address >>> PAGE_SHIFT;
        AccessRecorder recorder = this.recorder;
        if (recorder != null) {
            recorder.lookedUp(context, page);
        }
        int entry = table.find(context, page);
        if (entry >= 0) {
            replacement.touched(entry);
            HITS.setOpaque(this, hits + 1);
            return table.frame(entry);
        }
        return fill(context, owner, page, false);
    }

    /**
     * Translates every page of [address, address+length) of {@code owner} ahead of use, so the
     * lookups that follow hit (the free queue prefetches posted receive buffers). Pages already
     * present count as used now for replacement; a range larger than its sets can hold displaces
     * its own first pages. If a miss fails, the pages before it stay translated. NIC thread only.
     *
     * @throws BadAddressException     for a negative address, a non-positive length, an end past
     *                                 2^63-1, or a page outside {@code owner}
     * @throws UnknownContextException if the context is not open
     * @param context an open context id
     * @param owner   the direct buffer holding the range
     * @param address first byte of the range
     * @param length  bytes, positive
     */
    public void prefetch(int context, ByteBuffer owner, long address, long length) {
        checkRange(address, length);
        long end = endPage(address, length);
        for (long page = address >>> PAGE_SHIFT; page < end; page++) {
            int entry = table.find(context, page);
            if (entry >= 0) {
                replacement.touched(entry);
            } else {
                fill(context, owner, page, true);
            }
        }
    }

    /** The miss path: announce, trap, insert unless shot down meanwhile (then trap again). */
    private long fill(int context, ByteBuffer owner, long page, boolean prefetch) {
        long start = System.nanoTime();
        synchronized (lock) {
            requireNotClosed();
            requireOpen(context);
            if (prefetch) {
                PREFETCHES.setOpaque(this, prefetches + 1);
            } else {
                MISSES.setOpaque(this, misses + 1);
            }
            missPending = true;
            pendingContext = context;
            pendingPage = page;
            pendingShotDown = false;
        }
        for (;;) {
            Translation translation;
            try {
                translation = missHandler.onMiss(context, owner, page << PAGE_SHIFT);
                if (translation == null) {
                    throw new IllegalStateException(missHandler + " returned null for the page at 0x"
                            + Long.toHexString(page << PAGE_SHIFT) + ": a MissHandler returns a Translation or throws");
                }
            } catch (PinBudgetExceededException e) {
                PinHandle shed;
                synchronized (lock) {
                    shed = shedOne(context, page);
                    if (shed == null) {
                        missPending = false;
                    }
                }
                if (shed == null) {
                    throw e;
                }
                shed.release(); // its page goes idle in the pin cache, which can now unpin it to make room
                continue;
            } catch (RuntimeException | Error e) {
                synchronized (lock) {
                    missPending = false;
                }
                throw e;
            }
            PinHandle victimPin = null;
            RuntimeException refused = null;
            boolean again = false;
            synchronized (lock) {
                if (closed || !openContexts.get(context)) {
                    missPending = false;
                    refused = closed ? closedError() : new UnknownContextException(context);
                } else if (pendingShotDown) {
                    pendingShotDown = false;
                    retries++;
                    again = true;
                } else {
                    int set = config.setOf(context, page);
                    int entry = table.vacant(set);
                    if (entry < 0) {
                        entry = replacement.victim(set);
                        victimPin = pins[entry];
                        evictions++;
                    }
                    table.fill(entry, context, page, translation.frame());
                    pins[entry] = translation.pin();
                    replacement.filled(entry);
                    missPending = false;
                    missNanos.recordValue(Math.max(0, System.nanoTime() - start));
                }
            }
            if (refused != null || again) {
                if (translation.pin() != null) {
                    translation.pin().release();
                }
                if (refused != null) {
                    throw refused;
                }
                continue;
            }
            if (victimPin != null) {
                victimPin.release();
            }
            return translation.frame();
        }
    }

    /**
     * Tells {@code recorder} the (context, virtual page) of every {@link #lookup} from now on,
     * hit or miss, before the TLB answers it ({@link #prefetch} is not recorded); {@code null}
     * stops. The recorder runs on the NIC thread, on the hit path: it must not block, and should
     * not allocate (as {@link org.unetmm.tlb.trace.PageTraceRecorder}, preallocated, does not). Call it
     * from the NIC thread, or before handing the NIC thread the work it should see (a queue is
     * the happens-before edge); read what it recorded after a completion says the work is done.
     *
     * @param recorder told of every lookup, or {@code null} to stop
     */
    public void record(AccessRecorder recorder) {
        this.recorder = recorder;
    }

    // ------------------------------------------------------------------ shootdown (any thread)

    /**
     * Drops the context's translations of every page [address, address+length) touches and
     * releases their pins. When this returns no lookup begun afterwards returns any of them, and
     * a miss for one of them that was in flight is retried. Any thread; a no-op after close.
     *
     * @throws BadAddressException     for a negative address, a non-positive length or an end past 2^63-1
     * @throws UnknownContextException if the context is not open
     * @param context an open context id
     * @param address first byte of the range
     * @param length  bytes, positive
     */
    public void invalidate(int context, long address, long length) {
        checkRange(address, length);
        List<PinHandle> released;
        synchronized (lock) {
            if (closed) {
                return;
            }
            requireOpen(context);
            released = shootDown(context, address >>> PAGE_SHIFT, endPage(address, length));
        }
        releaseAll(released);
    }

    /**
     * Drops every translation of the context and releases their pins; the context stays open.
     * Any thread; a no-op after close.
     *
     * @throws UnknownContextException if the context is not open
     * @param context an open context id
     */
    public void invalidateContext(int context) {
        List<PinHandle> released;
        synchronized (lock) {
            if (closed) {
                return;
            }
            requireOpen(context);
            released = shootDown(context, 0, Long.MAX_VALUE);
        }
        releaseAll(released);
    }

    /** The pin cache's shootdown: every context's translations of the range (one address space). */
    private void shootDownAllContexts(long address, long length) {
        List<PinHandle> released;
        synchronized (lock) {
            if (closed) {
                return;
            }
            released = shootDown(-1, address >>> PAGE_SHIFT, endPage(address, length));
        }
        releaseAll(released);
    }

    /**
     * Invalidates the valid entries of pages [first, end) of a context (every context if
     * negative), marks an overlapping miss in flight, and hands back the pins to release once
     * the lock is dropped. Caller holds the lock.
     */
    private List<PinHandle> shootDown(int context, long first, long end) {
        if (missPending && (context < 0 || context == pendingContext) && pendingPage >= first && pendingPage < end) {
            pendingShotDown = true;
        }
        List<PinHandle> released = new ArrayList<>();
        if (context >= 0 && end - first < config.sets()) {
            int ways = config.ways();
            for (long page = first; page < end; page++) {
                int from = config.setOf(context, page) * ways;
                for (int entry = from; entry < from + ways; entry++) {
                    if (table.isValid(entry) && table.pageOf(entry) == page && table.contextOf(entry) == context) {
                        drop(entry, released);
                        shootdowns++;
                    }
                }
            }
        } else {
            for (int entry = 0; entry < table.entryCount(); entry++) {
                if (table.isValid(entry) && (context < 0 || table.contextOf(entry) == context)) {
                    long page = table.pageOf(entry);
                    if (page >= first && page < end) {
                        drop(entry, released);
                        shootdowns++;
                    }
                }
            }
        }
        return released;
    }

    /**
     * Under pin-budget pressure (the kernel side cannot pin the missing page because pinned pages
     * in use fill the budget, and the TLB's own entries hold most of them) the TLB gives up a
     * translation so its pin can go: the victim of the missing page's set if that set is full
     * (the insert would evict it anyway), else any valid entry, round robin. Returns the pin to
     * release once the lock is dropped, or null when the TLB holds no pin to give up. Caller holds
     * the lock.
     */
    private PinHandle shedOne(int context, long page) {
        int victim = -1;
        int set = config.setOf(context, page);
        if (table.vacant(set) < 0) {
            victim = replacement.victim(set);
        }
        int entries = table.entryCount();
        if (victim < 0 || !table.isValid(victim) || pins[victim] == null) {
            victim = -1;
            for (int i = 0; i < entries; i++) {
                int entry = (shedCursor + i) % entries;
                if (table.isValid(entry) && pins[entry] != null) {
                    victim = entry;
                    shedCursor = entry + 1;
                    break;
                }
            }
        }
        if (victim < 0) {
            return null;
        }
        List<PinHandle> released = new ArrayList<>(1);
        drop(victim, released);
        evictions++;
        return released.isEmpty() ? null : released.get(0);
    }

    /** Invalidates the entry, then takes its pin for release. Caller holds the lock. */
    private void drop(int entry, List<PinHandle> released) {
        table.invalidate(entry);
        replacement.invalidated(entry);
        PinHandle pin = pins[entry];
        pins[entry] = null;
        if (pin != null) {
            released.add(pin);
        }
    }

    // ------------------------------------------------------------------ observation

    /** {@return a snapshot of the counters} Any thread. */
    public TlbStats stats() {
        synchronized (lock) {
            return new TlbStats((long) HITS.getOpaque(this), (long) MISSES.getOpaque(this),
                    (long) PREFETCHES.getOpaque(this), evictions, shootdowns, retries, missNanos.copy());
        }
    }

    /** {@return the shape and policy this TLB was built with} */
    public TlbConfig config() {
        return config;
    }

    /** {@return the handler misses call} */
    public MissHandler missHandler() {
        return missHandler;
    }

    /**
     * {@return whether a valid translation of the page holding {@code address} is in the TLB for the context}
     * A diagnostic: takes the lock, changes no counter and no recency. Any thread.
     *
     * @param context a context id
     * @param address any address in the page
     */
    public boolean contains(int context, long address) {
        if (address < 0) {
            return false;
        }
        long page = address >>> PAGE_SHIFT;
        synchronized (lock) {
            int from = config.setOf(context, page) * config.ways();
            for (int entry = from; entry < from + config.ways(); entry++) {
                if (table.isValid(entry) && table.pageOf(entry) == page && table.contextOf(entry) == context) {
                    return true;
                }
            }
            return false;
        }
    }

    /** {@return valid translations held now (each holds a pin if its handler pinned)} Any thread. */
    public int size() {
        synchronized (lock) {
            int valid = 0;
            for (int entry = 0; entry < table.entryCount(); entry++) {
                if (table.isValid(entry)) {
                    valid++;
                }
            }
            return valid;
        }
    }

    /** {@return whether {@link #close()} has run} Any thread. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    // ------------------------------------------------------------------ close

    /**
     * Drops every translation, releases every pin the TLB holds, forgets every context and
     * detaches from the pin caches. Idempotent; any thread. A miss in flight is refused at its
     * insertion (its pin released); later lookups throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        List<PinHandle> released = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            for (int entry = 0; entry < table.entryCount(); entry++) {
                if (table.isValid(entry)) {
                    drop(entry, released);
                }
            }
            if (missPending) {
                pendingShotDown = true;
            }
            openContexts.clear();
            for (PinCache cache : attached) {
                cache.removeListener(shootdownListener);
            }
            attached.clear();
        }
        releaseAll(released);
    }

    @Override
    public String toString() {
        return "Tlb[" + config + ", " + missHandler + "]";
    }

    // ------------------------------------------------------------------ checks

    private void requireNotClosed() {
        if (closed) {
            throw closedError();
        }
    }

    private static IllegalStateException closedError() {
        return new IllegalStateException("TLB is closed: its translations and pins are gone; create a new Tlb");
    }

    private void requireOpen(int context) {
        if (context < 0 || !openContexts.get(context)) {
            throw new UnknownContextException(context);
        }
    }

    private static void checkRange(long address, long length) {
        if (address < 0 || length <= 0 || length > Long.MAX_VALUE - address) {
            throw BadAddressException.badRange(address, length);
        }
    }

    /** One past the last page [address, address+length) touches; the range is checked. */
    private static long endPage(long address, long length) {
        return ((address + length - 1) >>> PAGE_SHIFT) + 1;
    }

    /** Releases each pin; a failure does not stop the rest, and the first is rethrown after. */
    private static void releaseAll(List<PinHandle> pins) {
        RuntimeException first = null;
        for (PinHandle pin : pins) {
            try {
                pin.release();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
