package org.unetmm.tlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.PinListener;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.pinning.UnpinCause;

/**
 * "A page whose translation is in the TLB is pinned", held against the kernel: real mmap'd
 * memory, a real pin cache, real mlock, and after every step the kernel's VmLck. Randomized steps
 * are seeded; the seed and step are in every assertion message.
 */
@Timeout(300)
class TlbPinInvariantTest {
    private static final long PAGE = NativeMemory.pageSize();
    private static final int STEPS = Integer.getInteger("unetmm.test.steps", 10_000);

    private long baseline;
    private PageTranslator translator;

    @BeforeEach
    void recordBaseline() {
        baseline = ProcessStatus.vmLckBytes();
        translator = PageTranslator.open();
    }

    @AfterEach
    void closeTranslator() {
        translator.close();
    }

    private static PinCache cacheOfPages(long pages) {
        return new PinCache(PinCacheConfig.builder().budgetBytes(pages * PAGE).build());
    }

    @Test
    void everyTranslatedPageIsLockedAfterEveryStepOfARandomMix() {
        for (ReplacementPolicy policy : ReplacementPolicy.values()) {
            randomMix(policy, 0xC0FFEEL + policy.ordinal());
        }
    }

    private void randomMix(ReplacementPolicy policy, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int regionPages = 64;
        TlbConfig config = TlbConfig.builder().entries(16).ways(4).policy(policy).seed(seed).build();
        try (NativeBuffer region = NativeMemory.allocate((int) (regionPages * PAGE))) {
            ByteBuffer buffer = region.buffer();
            long base = region.address();
            PinCache cache = cacheOfPages(40);
            Tlb tlb = Tlb.over(config, cache, translator);
            List<Integer> contexts = new ArrayList<>(List.of(tlb.openContext(), tlb.openContext()));
            for (int step = 0; step < STEPS; step++) {
                int context = contexts.get(random.nextInt(contexts.size()));
                int op = random.nextInt(100);
                long address = base + random.nextInt(regionPages) * PAGE + random.nextInt((int) PAGE);
                String what;
                if (op < 50) {
                    what = "lookup 0x" + Long.toHexString(address);
                    tlb.lookup(context, buffer, address);
                } else if (op < 58) {
                    // owner is a slice covering part of a page: the pin is clipped to it
                    int offset = (int) (address - base);
                    int length = Math.min(1 + random.nextInt(100), buffer.capacity() - offset);
                    ByteBuffer slice = buffer.slice(offset, length);
                    what = "lookup via slice [" + offset + "+" + length + ")";
                    tlb.lookup(context, slice, address);
                } else if (op < 66) {
                    long length = 1 + random.nextInt((int) (3 * PAGE));
                    length = Math.min(length, base + regionPages * PAGE - address);
                    what = "prefetch " + length + " bytes at 0x" + Long.toHexString(address);
                    tlb.prefetch(context, buffer, address, length);
                } else if (op < 76) {
                    long length = 1 + random.nextInt((int) (4 * PAGE));
                    what = "tlb.invalidate " + length + " bytes at 0x" + Long.toHexString(address);
                    tlb.invalidate(context, address, length);
                } else if (op < 84) {
                    long length = 1 + random.nextInt((int) (4 * PAGE));
                    what = "cache.invalidate " + length + " bytes at 0x" + Long.toHexString(address);
                    cache.invalidate(address, length);
                } else if (op < 88) {
                    what = "invalidateContext " + context;
                    tlb.invalidateContext(context);
                } else if (op < 92) {
                    what = "closeContext " + context + " and open another";
                    tlb.closeContext(context);
                    contexts.remove(Integer.valueOf(context));
                    contexts.add(tlb.openContext());
                } else {
                    what = "cache.evictIdle";
                    cache.evictIdle();
                }
                checkInvariant(tlb, cache, contexts, base, regionPages,
                        String.format("seed %d, %s, step %d (%s)", seed, policy, step, what));
            }
            assertThat(tlb.stats().evictions()).as("seed %d: the mix should evict", seed).isPositive();
            assertThat(tlb.stats().shootdowns()).as("seed %d: the mix should shoot down", seed).isPositive();
            tlb.close();
            assertThat(cache.inUseRegions()).as("seed %d: after tlb.close no pin is in use", seed).isZero();
            cache.close();
            assertThat(ProcessStatus.vmLckBytes()).as("seed %d: VmLck after closing TLB and cache", seed)
                    .isEqualTo(baseline);
        }
    }

    /**
     * Every (context, page) the TLB translates is locked; the pins in use are exactly the distinct
     * translated pages (one single-page region each, shared across contexts); the library's
     * pinned bytes are the kernel's.
     */
    private void checkInvariant(Tlb tlb, PinCache cache, List<Integer> contexts, long base, int regionPages,
                                String where) {
        Set<Long> translated = new HashSet<>();
        int entries = 0;
        for (int context : contexts) {
            for (int p = 0; p < regionPages; p++) {
                long address = base + p * PAGE;
                if (tlb.contains(context, address)) {
                    entries++;
                    translated.add(address);
                    assertThat(cache.isPinned(address))
                            .as("%s: context %d translates page 0x%x but it is not pinned", where, context, address)
                            .isTrue();
                }
            }
        }
        assertThat(tlb.size()).as("%s: TLB size vs translations of open contexts", where).isEqualTo(entries);
        assertThat(cache.inUseRegions()).as("%s: regions in use vs distinct translated pages", where)
                .isEqualTo(translated.size());
        assertThat(ProcessStatus.vmLckBytes() - baseline).as("%s: kernel VmLck growth vs library pinned bytes", where)
                .isEqualTo(cache.pinnedBytes());
    }

    @Test
    void evictedTranslationLeavesItsPageIdleAndStillLocked() {
        try (NativeBuffer region = NativeMemory.allocate((int) (2 * PAGE));
             PinCache cache = cacheOfPages(8);
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(1, ReplacementPolicy.LRU), cache, translator)) {
            int context = tlb.openContext();
            long first = region.address();
            long second = first + PAGE;
            tlb.lookup(context, region.buffer(), first);
            assertThat(cache.inUseRegions()).isEqualTo(1);
            tlb.lookup(context, region.buffer(), second);
            assertThat(tlb.contains(context, first)).as("the first page was evicted").isFalse();
            assertThat(tlb.stats().evictions()).isEqualTo(1);
            assertThat(cache.inUseRegions()).as("only the resident translation holds a pin").isEqualTo(1);
            assertThat(cache.idleRegions()).as("the victim's pin went idle in the cache").isEqualTo(1);
            assertThat(cache.isPinned(first)).as("an idle pin stays locked until the cache evicts it").isTrue();
            assertThat(ProcessStatus.vmLckBytes() - baseline).isEqualTo(2 * PAGE);
            long locks = cache.stats().lockCalls();
            tlb.lookup(context, region.buffer(), first);
            assertThat(cache.stats().lockCalls()).as("a miss on an idle page makes no mlock").isEqualTo(locks);
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void closingTlbReleasesEveryPinAndIsIdempotent() {
        try (NativeBuffer region = NativeMemory.allocate((int) (32 * PAGE));
             PinCache cache = cacheOfPages(64)) {
            Tlb tlb = Tlb.over(TlbConfig.builder().entries(16).ways(2).build(), cache, translator);
            int context = tlb.openContext();
            tlb.prefetch(context, region.buffer(), region.address(), 32 * PAGE);
            assertThat(tlb.size()).isEqualTo(16);
            assertThat(cache.inUseRegions()).isEqualTo(16);
            tlb.close();
            tlb.close();
            assertThat(tlb.size()).isZero();
            assertThat(cache.inUseRegions()).isZero();
            assertThat(tlb.isClosed()).isTrue();
            assertThatThrownBy(() -> tlb.lookup(context, region.buffer(), region.address()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("create a new Tlb");
            tlb.invalidate(context, region.address(), PAGE); // a no-op after close, not an error
            cache.close();
            assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
        }
    }

    @Test
    void prefetchedPagesHitWithoutTrapping() {
        try (NativeBuffer region = NativeMemory.allocate((int) (8 * PAGE));
             PinCache cache = cacheOfPages(16);
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(8, ReplacementPolicy.CLOCK), cache, translator)) {
            int context = tlb.openContext();
            tlb.prefetch(context, region.buffer(), region.address() + 100, 8 * PAGE - 200);
            assertThat(tlb.stats().prefetches()).isEqualTo(8);
            for (int p = 0; p < 8; p++) {
                long frame = tlb.lookup(context, region.buffer(), region.address() + p * PAGE + 7);
                assertThat(frame).isEqualTo(translator.frameOf(region.address() + p * PAGE));
            }
            assertThat(tlb.stats().misses()).isZero();
            assertThat(tlb.stats().hits()).isEqualTo(8);
        }
    }

    @Test
    void cacheInvalidationShootsDownTranslationsBeforeAnyMunlock() {
        try (NativeBuffer region = NativeMemory.allocate((int) (4 * PAGE));
             PinCache cache = cacheOfPages(16);
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(8, ReplacementPolicy.LRU), cache, translator)) {
            int a = tlb.openContext();
            int b = tlb.openContext();
            tlb.prefetch(a, region.buffer(), region.address(), 4 * PAGE);
            tlb.prefetch(b, region.buffer(), region.address(), 2 * PAGE);
            List<String> stale = new ArrayList<>();
            cache.addListener(new PinListener() {
                @Override
                public void beforeUnpin(long address, long length, UnpinCause cause) {
                    for (long p = address; p < address + length; p += PAGE) {
                        if (tlb.contains(a, p) || tlb.contains(b, p)) {
                            stale.add("0x" + Long.toHexString(p) + " still translated at " + cause + " unpin");
                        }
                    }
                }
            });
            cache.invalidate(region.address() + PAGE, 2 * PAGE);
            assertThat(stale).isEmpty();
            assertThat(tlb.contains(a, region.address())).isTrue();
            assertThat(tlb.contains(a, region.address() + PAGE)).isFalse();
            assertThat(tlb.contains(b, region.address() + PAGE)).isFalse();
            assertThat(tlb.contains(a, region.address() + 2 * PAGE)).isFalse();
            assertThat(tlb.contains(a, region.address() + 3 * PAGE)).isTrue();
            assertThat(tlb.stats().shootdowns()).isEqualTo(3);
            assertThat(cache.isPinned(region.address() + PAGE)).isFalse();
            assertThat(ProcessStatus.vmLckBytes() - baseline).isEqualTo(cache.pinnedBytes()).isEqualTo(2 * PAGE);
        }
    }

    @Test
    void freeingMemoryShootsDownItsTranslationsAndUnlocksIt() {
        try (PinCache cache = cacheOfPages(16);
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(8, ReplacementPolicy.LRU), cache, translator)) {
            int context = tlb.openContext();
            NativeBuffer region = NativeMemory.allocate((int) (3 * PAGE));
            long address = region.address();
            tlb.prefetch(context, region.buffer(), address, 3 * PAGE);
            assertThat(ProcessStatus.vmLckBytes() - baseline).isEqualTo(3 * PAGE);
            region.close(); // the TLB drops its translations, so the cache can unpin and free
            assertThat(tlb.size()).isZero();
            assertThat(tlb.contains(context, address)).isFalse();
            assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
        }
    }

    @Test
    void translationsOfOneContextSurviveAnotherContextsShootdown() {
        try (NativeBuffer region = NativeMemory.allocate((int) (2 * PAGE));
             PinCache cache = cacheOfPages(16);
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(8, ReplacementPolicy.LRU), cache, translator)) {
            int a = tlb.openContext();
            int b = tlb.openContext();
            tlb.prefetch(a, region.buffer(), region.address(), 2 * PAGE);
            tlb.prefetch(b, region.buffer(), region.address(), 2 * PAGE);
            tlb.invalidateContext(a);
            assertThat(tlb.contains(a, region.address())).isFalse();
            assertThat(tlb.contains(b, region.address())).isTrue();
            assertThat(cache.isPinned(region.address())).as("b's entry still holds the shared page's pin").isTrue();
            tlb.closeContext(b);
            assertThat(cache.inUseRegions()).isZero();
            assertThatThrownBy(() -> tlb.invalidate(b, region.address(), PAGE))
                    .isInstanceOf(UnknownContextException.class);
        }
    }
}
