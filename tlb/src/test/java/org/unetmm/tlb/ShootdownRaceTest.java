package org.unetmm.tlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.ProcessStatus;

/**
 * No stale translation after a shootdown returns, checked as a property of generation-stamped
 * frames. An invalidator thread repeats: {@code started = k; invalidate(hot set); returned = k}.
 * The miss handler stamps each frame with {@code started} as it reads it. The NIC thread reads
 * {@code returned} before each lookup; a frame stamped below it would have been made before
 * invalidation k began and survived it (by a stale hit, or by a racing miss inserted after the
 * shootdown) — exactly what the TLB must never return.
 */
@Timeout(120)
class ShootdownRaceTest {
    private static final long PAGE = NativeMemory.pageSize();
    private static final int STAMP_SHIFT = 24;
    private static final int HOT_PAGES = 8;
    private static final long SEED = Long.getLong("unetmm.test.seed", 0x5A0D);
    /** Invalidations the NIC thread keeps looking up through, unless 20 s pass first. */
    private static final long INVALIDATIONS = Math.max(20_000, Integer.getInteger("unetmm.test.steps", 10_000) * 10L);

    @Test
    void noLookupReturnsATranslationOlderThanACompletedInvalidation() throws Exception {
        AtomicLong started = new AtomicLong();
        MissHandler stamped = (context, owner, pageAddress) ->
                new Translation((started.get() << STAMP_SHIFT) | (pageAddress / PAGE & 0xFFFF), null);
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(16, ReplacementPolicy.LRU), stamped)) {
            int context = tlb.openContext();
            long hot = 1L << 32;
            race(tlb, context, hot, null, started, (address, length) -> tlb.invalidate(context, address, length), 1);
        }
    }

    @Test
    void noPinnedLookupSurvivesAPinCacheInvalidation() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        AtomicLong started = new AtomicLong();
        try (NativeBuffer region = NativeMemory.allocate((int) (HOT_PAGES * PAGE));
             PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build())) {
            MissHandler pinning = MissHandler.pinning(cache, translator);
            MissHandler stamped = (context, owner, pageAddress) -> {
                long stamp = started.get();
                Translation real = pinning.onMiss(context, owner, pageAddress);
                return new Translation((stamp << STAMP_SHIFT) | (pageAddress / PAGE & 0xFFFF), real.pin());
            };
            try (Tlb tlb = new Tlb(TlbConfig.builder().entries(16).ways(4).build(), stamped)) {
                tlb.attach(cache); // a wrapped handler: the TLB cannot see the cache by itself
                int context = tlb.openContext();
                race(tlb, context, region.address(), region.buffer(), started, cache::invalidate, 100);
            }
            assertThat(cache.inUseRegions()).isZero();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    /** A shootdown of [address, address+length): the TLB's own or the pin cache's. */
    private interface Invalidation {
        void run(long address, long length);
    }

    /**
     * Runs the NIC thread (this one) against an invalidator thread and fails on the first frame
     * stamped below the last invalidation of its page that had returned. The invalidator shoots
     * down one hot page at a time, round robin, and every 16th time the whole hot set, so most
     * pages stay hot (stale hits are possible) while misses race with shootdowns of their page.
     * Bounded: until the invalidator has started a fixed number of invalidations, or 20 s.
     */
    private static void race(Tlb tlb, int context, long hot, ByteBuffer owner, AtomicLong started,
                             Invalidation invalidation, int invalidationScale) throws Exception {
        AtomicLongArray returned = new AtomicLongArray(HOT_PAGES);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> invalidatorFailure = new AtomicReference<>();
        CountDownLatch running = new CountDownLatch(1);
        AtomicLong progress = new AtomicLong();
        SplittableRandom random = new SplittableRandom(SEED);
        Thread invalidator = new Thread(() -> {
            try {
                running.countDown();
                for (long k = 1; !stop.get(); k++) {
                    // pace to the NIC thread, a seeded 0..15 lookups apart, so neither starves the other
                    long target = progress.get() + random.nextInt(16);
                    while (progress.get() < target && !stop.get()) {
                        Thread.onSpinWait();
                    }
                    started.set(k);
                    if (k % 16 == 0) {
                        invalidation.run(hot, HOT_PAGES * PAGE);
                        for (int p = 0; p < HOT_PAGES; p++) {
                            returned.set(p, k);
                        }
                    } else {
                        int p = (int) (k % HOT_PAGES);
                        invalidation.run(hot + p * PAGE, PAGE);
                        returned.set(p, k);
                    }
                }
            } catch (Throwable t) {
                invalidatorFailure.set(t);
            }
        }, "invalidator");
        invalidator.start();
        running.await();
        long invalidations = INVALIDATIONS / invalidationScale;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try {
            for (int i = 0; started.get() < invalidations && System.nanoTime() < deadline; i++) {
                int p = i % HOT_PAGES;
                long done = returned.get(p);
                long address = hot + p * PAGE;
                long frame = tlb.lookup(context, owner, address);
                long stamp = frame >>> STAMP_SHIFT;
                if (stamp < done) {
                    throw new AssertionError("seed " + SEED + ": lookup " + i + " of page 0x" + Long.toHexString(address)
                            + " returned a frame stamped " + stamp + " after invalidation " + done + " of it had returned ("
                            + tlb.stats() + ")");
                }
                if ((frame & 0xFFFF) != (address / PAGE & 0xFFFF)) {
                    throw new AssertionError("lookup " + i + " returned the frame of another page: " + frame);
                }
                progress.setRelease(i + 1);
            }
        } finally {
            stop.set(true);
            invalidator.join();
        }
        assertThat(invalidatorFailure.get()).as("invalidator thread failed").isNull();
        TlbStats stats = tlb.stats();
        assertThat(stats.shootdowns()).as("shootdowns hit live entries (%s)", stats).isPositive();
    }

    @Test
    void shootdownDuringMissDiscardsTheTranslationAndTrapsAgain() {
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<Tlb> self = new AtomicReference<>();
        MissHandler handler = (context, owner, pageAddress) -> {
            int call = calls.incrementAndGet();
            if (call == 1) {
                self.get().invalidate(context, pageAddress, 1); // the shootdown the race would bring
            }
            return new Translation(call, null);
        };
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), handler)) {
            self.set(tlb);
            int context = tlb.openContext();
            assertThat(tlb.lookup(context, null, 0x10_0000)).as("the translation made after the shootdown").isEqualTo(2);
            assertThat(tlb.lookup(context, null, 0x10_0000)).isEqualTo(2);
            TlbStats stats = tlb.stats();
            assertThat(stats.retries()).isEqualTo(1);
            assertThat(stats.misses()).isEqualTo(1);
            assertThat(stats.hits()).isEqualTo(1);
        }
    }

    @Test
    void shootdownOfAnotherPageDuringMissDoesNotRetry() {
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<Tlb> self = new AtomicReference<>();
        MissHandler handler = (context, owner, pageAddress) -> {
            self.get().invalidate(context, pageAddress + PAGE, PAGE);
            return new Translation(calls.incrementAndGet(), null);
        };
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), handler)) {
            self.set(tlb);
            int context = tlb.openContext();
            assertThat(tlb.lookup(context, null, 0x10_0000)).isEqualTo(1);
            assertThat(tlb.stats().retries()).isZero();
        }
    }

    @Test
    void pinOfAMissRacedByAShootdownIsReleased() {
        long baseline = ProcessStatus.vmLckBytes();
        try (NativeBuffer region = NativeMemory.allocate((int) PAGE);
             PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(8 * PAGE).build())) {
            MissHandler pinning = MissHandler.pinning(cache, translator);
            AtomicInteger calls = new AtomicInteger();
            MissHandler handler = (context, owner, pageAddress) -> {
                Translation translation = pinning.onMiss(context, owner, pageAddress);
                if (calls.incrementAndGet() == 1) {
                    cache.invalidate(pageAddress, PAGE); // dooms the region just pinned for this miss
                }
                return translation;
            };
            try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(2, ReplacementPolicy.LRU), handler)) {
                tlb.attach(cache);
                int context = tlb.openContext();
                tlb.lookup(context, region.buffer(), region.address());
                assertThat(calls.get()).isEqualTo(2);
                assertThat(cache.inUseRegions()).as("only the inserted translation's pin").isEqualTo(1);
                assertThat(ProcessStatus.vmLckBytes() - baseline).isEqualTo(cache.pinnedBytes()).isEqualTo(PAGE);
            }
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void contextClosedDuringMissRefusesTheLookupAndReleasesThePin() {
        try (NativeBuffer region = NativeMemory.allocate((int) PAGE);
             PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(8 * PAGE).build())) {
            MissHandler pinning = MissHandler.pinning(cache, translator);
            AtomicReference<Tlb> self = new AtomicReference<>();
            MissHandler handler = (context, owner, pageAddress) -> {
                Translation translation = pinning.onMiss(context, owner, pageAddress);
                self.get().closeContext(context);
                return translation;
            };
            try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(2, ReplacementPolicy.LRU), handler)) {
                self.set(tlb);
                int context = tlb.openContext();
                assertThatThrownBy(() -> tlb.lookup(context, region.buffer(), region.address()))
                        .isInstanceOf(UnknownContextException.class);
                assertThat(tlb.size()).isZero();
                assertThat(cache.inUseRegions()).isZero();
            }
        }
    }

    @Test
    void tlbClosedDuringMissRefusesTheLookupAndReleasesThePin() {
        try (NativeBuffer region = NativeMemory.allocate((int) PAGE);
             PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(8 * PAGE).build())) {
            MissHandler pinning = MissHandler.pinning(cache, translator);
            AtomicReference<Tlb> self = new AtomicReference<>();
            MissHandler handler = (context, owner, pageAddress) -> {
                Translation translation = pinning.onMiss(context, owner, pageAddress);
                self.get().close();
                return translation;
            };
            Tlb tlb = new Tlb(TlbConfig.fullyAssociative(2, ReplacementPolicy.LRU), handler);
            self.set(tlb);
            int context = tlb.openContext();
            assertThatThrownBy(() -> tlb.lookup(context, region.buffer(), region.address()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            assertThat(cache.inUseRegions()).isZero();
        }
    }
}
