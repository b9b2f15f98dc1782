package org.unetmm.tlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.UnpinnableBufferException;

/** Every bad input is refused with a typed error whose message names the fix; none corrupts the TLB. */
@Timeout(60)
class BadInputTest {
    private static final long PAGE = NativeMemory.pageSize();

    private static Tlb modelTlb() {
        return new Tlb(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), MissHandler.unpinned());
    }

    // ------------------------------------------------------------------ configuration

    @Test
    void zeroSizedTlbIsRefusedAtBuild() {
        assertThatThrownBy(() -> TlbConfig.builder().entries(0).build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("at least one entry");
        assertThatThrownBy(() -> TlbConfig.fullyAssociative(0, ReplacementPolicy.LRU))
                .isInstanceOf(TlbConfigException.class);
        assertThatThrownBy(() -> new TlbConfig(0, 4, ReplacementPolicy.LRU, 1))
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("sets ≥ 1");
        assertThatThrownBy(() -> TlbConfig.builder().sets(4).ways(0).build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("ways ≥ 1");
        assertThatThrownBy(() -> TlbConfig.builder().build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("entries(n)");
    }

    @Test
    void waysNotDividingEntriesAreRefusedWithADivisorToUse() {
        assertThatThrownBy(() -> TlbConfig.builder().entries(64).ways(5).build())
                .isInstanceOf(TlbConfigException.class)
                .hasMessageContaining("choose ways dividing the entries (e.g. 4)");
        assertThatThrownBy(() -> TlbConfig.builder().entries(8).ways(16).build())
                .isInstanceOf(TlbConfigException.class);
        assertThatThrownBy(() -> TlbConfig.builder().entries(64).sets(3).build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("set count dividing");
        assertThatThrownBy(() -> TlbConfig.builder().entries(64).sets(4).ways(8).build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("make them agree");
    }

    @Test
    void oversizedOrPolicylessTlbIsRefused() {
        assertThatThrownBy(() -> TlbConfig.builder().sets(1 << 16).ways(1 << 16).build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("shrink");
        assertThatThrownBy(() -> TlbConfig.builder().entries(8).policy(null).build())
                .isInstanceOf(TlbConfigException.class).hasMessageContaining("ReplacementPolicy.LRU");
    }

    @Test
    void configurationsNameTheirShape() {
        assertThat(TlbConfig.fullyAssociative(64, ReplacementPolicy.CLOCK))
                .satisfies(c -> assertThat(c.sets()).isEqualTo(1))
                .satisfies(c -> assertThat(c.isFullyAssociative()).isTrue());
        TlbConfig direct = TlbConfig.directMapped(64);
        assertThat(direct.sets()).isEqualTo(64);
        assertThat(direct.isDirectMapped()).isTrue();
        TlbConfig fourWay = TlbConfig.builder().entries(64).ways(4).build();
        assertThat(fourWay.sets()).isEqualTo(16);
        assertThat(fourWay.entries()).isEqualTo(64);
        assertThat(fourWay.toString()).contains("4-way");
        for (long page = 0; page < 1000; page++) {
            assertThat(fourWay.setOf(3, page)).isBetween(0, 15);
        }
    }

    // ------------------------------------------------------------------ addresses

    @Test
    void negativeAddressIsRefused() {
        try (Tlb tlb = modelTlb()) {
            int context = tlb.openContext();
            assertThatThrownBy(() -> tlb.lookup(context, null, -1))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("negative address -1");
            assertThatThrownBy(() -> tlb.lookup(context, null, Long.MIN_VALUE))
                    .isInstanceOf(BadAddressException.class);
            assertThatThrownBy(() -> tlb.prefetch(context, null, -PAGE, PAGE))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("negative");
            assertThatThrownBy(() -> tlb.invalidate(context, -PAGE, PAGE))
                    .isInstanceOf(BadAddressException.class);
            assertThat(tlb.stats().lookups()).as("a refused lookup is not counted").isZero();
        }
    }

    @Test
    void rangeOverflowingTheAddressSpaceIsRefused() {
        try (Tlb tlb = modelTlb()) {
            int context = tlb.openContext();
            assertThatThrownBy(() -> tlb.prefetch(context, null, Long.MAX_VALUE - 10, 100))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("overflows");
            assertThatThrownBy(() -> tlb.invalidate(context, 1L << 62, Long.MAX_VALUE))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("overflows");
            assertThatThrownBy(() -> tlb.invalidate(context, PAGE, 0))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("must be positive");
            assertThatThrownBy(() -> tlb.prefetch(context, null, PAGE, -5))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("must be positive");
            assertThatCode(() -> tlb.invalidate(context, Long.MAX_VALUE - PAGE, PAGE))
                    .as("a range ending exactly at 2^63-1 is valid").doesNotThrowAnyException();
        }
    }

    @Test
    void addressOutsideItsOwnerBufferIsRefusedAndPinsNothing() {
        try (NativeBuffer region = NativeMemory.allocate((int) (2 * PAGE));
             PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(8 * PAGE).build());
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), cache, translator)) {
            int context = tlb.openContext();
            ByteBuffer firstPage = region.buffer().slice(0, (int) PAGE);
            assertThatThrownBy(() -> tlb.lookup(context, firstPage, region.address() + PAGE))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("outside its owner buffer");
            assertThatThrownBy(() -> tlb.lookup(context, null, region.address()))
                    .isInstanceOf(BadAddressException.class).hasMessageContaining("pass the ByteBuffer");
            assertThatThrownBy(() -> tlb.prefetch(context, firstPage, region.address(), 2 * PAGE))
                    .isInstanceOf(BadAddressException.class);
            assertThat(tlb.size()).as("the prefetch translated the page inside the owner before refusing").isEqualTo(1);
            assertThat(cache.inUseRegions()).isEqualTo(1);
        }
    }

    @Test
    void heapBufferOwnerIsRefusedByThePinningLayer() {
        try (PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(8 * PAGE).build());
             Tlb tlb = Tlb.over(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), cache, translator)) {
            int context = tlb.openContext();
            assertThatThrownBy(() -> tlb.lookup(context, ByteBuffer.allocate(64), PAGE))
                    .isInstanceOf(UnpinnableBufferException.class).hasMessageContaining("use a direct buffer");
            assertThat(tlb.size()).isZero();
        }
    }

    // ------------------------------------------------------------------ contexts

    @Test
    void unknownContextOnInvalidateIsRefused() {
        try (Tlb tlb = modelTlb()) {
            assertThatThrownBy(() -> tlb.invalidate(7, PAGE, PAGE))
                    .isInstanceOf(UnknownContextException.class).hasMessageContaining("Tlb.openContext()")
                    .satisfies(e -> assertThat(((UnknownContextException) e).context()).isEqualTo(7));
            assertThatThrownBy(() -> tlb.invalidateContext(-1)).isInstanceOf(UnknownContextException.class);
            assertThatThrownBy(() -> tlb.closeContext(0)).isInstanceOf(UnknownContextException.class);
            assertThatThrownBy(() -> tlb.lookup(3, null, PAGE)).isInstanceOf(UnknownContextException.class);
            assertThatThrownBy(() -> tlb.prefetch(3, null, PAGE, PAGE)).isInstanceOf(UnknownContextException.class);
            assertThat(tlb.stats().lookups() + tlb.stats().prefetches()).as("refused, not trapped").isZero();
        }
    }

    @Test
    void closedContextIsNeverReusedNorTranslated() {
        try (Tlb tlb = modelTlb()) {
            int first = tlb.openContext();
            tlb.lookup(first, null, PAGE);
            tlb.closeContext(first);
            int second = tlb.openContext();
            assertThat(second).isNotEqualTo(first);
            assertThatThrownBy(() -> tlb.lookup(first, null, PAGE)).isInstanceOf(UnknownContextException.class);
            assertThatThrownBy(() -> tlb.closeContext(first)).isInstanceOf(UnknownContextException.class);
            assertThat(tlb.size()).isZero();
        }
    }

    // ------------------------------------------------------------------ handlers and lifecycle

    @Test
    void missHandlerReturningNullIsReportedAndInsertsNothing() {
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), (c, o, a) -> null)) {
            int context = tlb.openContext();
            assertThatThrownBy(() -> tlb.lookup(context, null, PAGE))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("returns a Translation");
            assertThat(tlb.size()).isZero();
        }
    }

    @Test
    void missHandlerFailureLeavesTheTlbUsable() {
        boolean[] fail = {true};
        MissHandler flaky = (c, o, a) -> {
            if (fail[0]) {
                throw new IllegalStateException("kernel said no");
            }
            return new Translation(a / PAGE, null);
        };
        try (Tlb tlb = new Tlb(TlbConfig.fullyAssociative(4, ReplacementPolicy.LRU), flaky)) {
            int context = tlb.openContext();
            assertThatThrownBy(() -> tlb.lookup(context, null, PAGE)).hasMessage("kernel said no");
            fail[0] = false;
            assertThat(tlb.lookup(context, null, PAGE)).isEqualTo(1);
        }
    }

    @Test
    void negativeFrameIsRefusedByTranslation() {
        assertThatThrownBy(() -> new Translation(-1, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pin (mlock) it");
    }

    @Test
    void closedTlbRefusesUseButToleratesTeardown() {
        Tlb tlb = modelTlb();
        int context = tlb.openContext();
        tlb.close();
        assertThatThrownBy(tlb::openContext).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> tlb.lookup(context, null, PAGE)).isInstanceOf(IllegalStateException.class);
        assertThatCode(() -> {
            tlb.closeContext(context);
            tlb.invalidateContext(context);
            tlb.close();
        }).doesNotThrowAnyException();
    }

    @Test
    void nullConfigOrHandlerIsRefused() {
        assertThatThrownBy(() -> new Tlb(null, MissHandler.unpinned())).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("TlbConfig.builder()");
        assertThatThrownBy(() -> new Tlb(TlbConfig.directMapped(4), null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("MissHandler.pinning(cache, translator)");
    }
}
