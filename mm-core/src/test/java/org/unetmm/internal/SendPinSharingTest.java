package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinBudgetExceededException;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.PinStats;
import org.unetmm.pinning.ProcessStatus;

/**
 * A wire that keeps the fragments of a pinned send ({@link SendSource#retain()}) keeps their
 * pages pinned through one pin per buffer entry of the send, shared by its held fragments, not
 * one pin-cache acquisition per fragment; the pages stay locked (the kernel's VmLck agrees) until
 * the last held fragment is released, and a pin that cannot be had leaves nothing pinned.
 * Drives the real {@link SendSource} and {@link HeldFragments} against a real {@link PinCache}
 * (real mlock), as the send loop does: start, retain, finish per fragment.
 */
@Timeout(30)
class SendPinSharingTest {
    private static final long PAGE = NativeMemory.pageSize();
    private static final int FRAGMENT = 1400;

    private final List<NativeBuffer> memory = new ArrayList<>();
    private long baseline;

    @BeforeEach
    void recordBaseline() {
        baseline = ProcessStatus.vmLckBytes();
    }

    @AfterEach
    void free() {
        memory.forEach(NativeBuffer::close);
    }

    private SendDescriptor pinnedSend(int... entryLengths) {
        SendDescriptor d = new SendDescriptor(entryLengths.length);
        d.path = SendPath.PINNED;
        for (int i = 0; i < entryLengths.length; i++) {
            NativeBuffer m = NativeMemory.allocate(entryLengths[i]);
            memory.add(m);
            d.buffers[i] = m.buffer();
            d.offsets[i] = 0;
            d.lengths[i] = entryLengths[i];
            d.addresses[i] = m.address();
            d.length += entryLengths[i];
        }
        d.count = entryLengths.length;
        return d;
    }

    /** Retains every fragment of {@code d} as a holding wire would; returns the tokens. */
    private static List<Long> retainAll(SendSource source, SendDescriptor d) {
        List<Long> tokens = new ArrayList<>();
        for (int at = 0; at < d.length; at += FRAGMENT) {
            source.start(null, d, d.heldCopy, at, Math.min(FRAGMENT, d.length - at));
            tokens.add(source.retain());
            assertThat(source.finish()).isNull();
        }
        return tokens;
    }

    private static long acquisitions(PinCache cache) {
        PinStats s = cache.stats();
        return s.hits() + s.misses();
    }

    @Test
    void everyHeldFragmentOfAPinnedSendSharesOnePinUntilTheLastIsReleased() {
        try (PinCache cache = PinCache.create()) {
            HeldFragments held = new HeldFragments();
            SendSource source = new SendSource(null, held, cache);
            SendDescriptor d = pinnedSend(64 * (int) PAGE);

            List<Long> tokens = retainAll(source, d);

            assertThat(tokens).as("fragments held").hasSize((64 * (int) PAGE + FRAGMENT - 1) / FRAGMENT);
            assertThat(acquisitions(cache)).as("pin-cache acquisitions for " + tokens.size() + " held fragments").isEqualTo(1);
            assertThat(cache.inUseRegions()).isEqualTo(1);
            SendDescriptor owner = d.heldCopy;
            assertThat(owner.held).isEqualTo(tokens.size());
            for (int i = 0; i < tokens.size() - 1; i++) {
                assertThat(held.release(tokens.get(i))).isSameAs(owner);
            }
            assertThat(cache.inUseRegions()).as("the last held fragment still pins the send").isEqualTo(1);
            assertThat(ProcessStatus.vmLckBytes() - baseline).as("the kernel agrees the pages are locked")
                    .isGreaterThanOrEqualTo(64 * PAGE);

            held.release(tokens.get(tokens.size() - 1));

            assertThat(owner.held).isZero();
            assertThat(owner.pin).as("the send's pin is forgotten with its last share").isNull();
            assertThat(cache.inUseRegions()).as("nothing in use once the last fragment is released").isZero();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline after the cache closed").isEqualTo(baseline);
    }

    @Test
    void aScatterGatherSendPinsEachEntryOnceAndARetransmissionPinsAfresh() {
        try (PinCache cache = PinCache.create()) {
            HeldFragments held = new HeldFragments();
            SendSource source = new SendSource(null, held, cache);
            SendDescriptor d = pinnedSend(3 * (int) PAGE + 100, 5 * (int) PAGE, 700);

            List<Long> first = retainAll(source, d);
            assertThat(acquisitions(cache)).as("one acquisition per buffer entry").isEqualTo(3);
            assertThat(cache.inUseRegions()).isEqualTo(3);
            first.forEach(held::release);
            assertThat(cache.inUseRegions()).isZero();

            List<Long> again = retainAll(source, d); // the same send held again (a reliable retransmission)
            assertThat(acquisitions(cache)).as("pinned again once per entry, from the cache's idle regions").isEqualTo(6);
            assertThat(cache.stats().misses()).as("no new mlock for pages still idle in the cache").isEqualTo(3);
            again.forEach(held::release);
            assertThat(cache.inUseRegions()).isZero();
            assertThat(held.size()).isZero();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void anEntryLargerThanTheBudgetIsPinnedPieceByPieceAndReleasedWithEachFragment() {
        long budget = 8 * PAGE;
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budget(PinBudget.ofBytes(budget)).build())) {
            HeldFragments held = new HeldFragments();
            SendSource source = new SendSource(null, held, cache);
            SendDescriptor d = pinnedSend(32 * (int) PAGE);

            source.start(null, d, null, 0, FRAGMENT);
            long a = source.retain();
            assertThat(source.finish()).isNull();
            source.start(null, d, d.heldCopy, 4 * (int) PAGE, FRAGMENT); // pages of their own: a region each
            long b = source.retain();
            assertThat(source.finish()).isNull();

            assertThat(cache.pinnedBytes()).as("only the held fragments' pages, within the budget").isLessThanOrEqualTo(budget);
            assertThat(cache.inUseRegions()).isEqualTo(2);
            held.release(a);
            assertThat(cache.inUseRegions()).isEqualTo(1);
            held.release(b);
            assertThat(cache.inUseRegions()).isZero();
            assertThat(d.heldCopy.pin).isNull();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void aFragmentWhosePinDoesNotFitTheBudgetFailsAndLeavesNothingPinnedNorHeld() {
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budget(PinBudget.ofBytes(PAGE)).build())) {
            HeldFragments held = new HeldFragments();
            SendSource source = new SendSource(null, held, cache);
            SendDescriptor d = pinnedSend(16 * (int) PAGE);
            int across = (int) PAGE - 100; // a fragment over two pages: one more than the budget

            source.start(null, d, null, across, FRAGMENT);
            assertThatThrownBy(source::retain).isInstanceOf(PinBudgetExceededException.class);
            assertThat(source.retained()).isFalse();
            assertThat(source.finish()).as("the failure is kept for the send's completion")
                    .isInstanceOf(PinBudgetExceededException.class);

            assertThat(held.size()).isZero();
            assertThat(d.heldCopy).as("no stable copy for a fragment never held").isNull();
            assertThat(cache.inUseRegions()).isZero();
            assertThat(cache.pinnedBytes()).isZero();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }
}
