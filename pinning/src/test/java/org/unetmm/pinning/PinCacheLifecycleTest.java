package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;
import static org.unetmm.pinning.KernelView.pageLocked;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Pins end with the cache (DESIGN §4, invariant 5), never under a user (invariant 2), and freeing
 * library memory waits for, or refuses, in-flight use (DESIGN §3).
 */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheLifecycleTest {
    private long baseline;

    @BeforeEach
    void measureBaseline() {
        baseline = ProcessStatus.vmLckBytes();
    }

    @Test
    void releasingEverythingAndClosingReturnsVmLckToBaseline() {
        ByteBuffer arena = ByteBuffer.allocateDirect(20 * (int) PAGE + 17);
        List<ByteBuffer> small = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            small.add(ByteBuffer.allocateDirect(700 + 300 * i));
        }
        PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build());
        List<PinHandle> handles = new ArrayList<>();
        handles.add(cache.acquire(arena, 3, 5 * (int) PAGE));
        handles.add(cache.acquire(arena.slice(4097, 9000), 1, 8000));
        handles.add(cache.acquire(arena, 11 * (int) PAGE + 5, 4 * (int) PAGE));
        for (ByteBuffer buffer : small) {
            handles.add(cache.acquire(buffer));
        }
        assertThat(lockedSince(baseline)).isEqualTo(cache.pinnedBytes()).isPositive();

        handles.subList(0, 5).forEach(PinHandle::release);
        assertThat(cache.idleRegions()).isPositive();
        assertThat(lockedSince(baseline)).as("idle regions stay locked").isEqualTo(cache.pinnedBytes());
        handles.subList(5, handles.size()).forEach(PinHandle::release);
        assertThat(cache.inUseRegions()).isZero();

        cache.close();
        assertThat(cache.pinnedBytes()).isZero();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }

    @Test
    void closingWhileHandlesAreHeldKeepsThemPinnedUntilRelease() {
        ByteBuffer held = ByteBuffer.allocateDirect(4 * (int) PAGE);
        ByteBuffer idle = ByteBuffer.allocateDirect(4 * (int) PAGE);
        PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build());
        PinHandle handle = cache.acquire(held, 1, 3 * (int) PAGE);
        cache.acquire(idle, 0, 100).release();
        long heldBytes = handle.pages().length();

        cache.close();
        assertThat(cache.idleRegions()).isZero();
        assertThat(lockedSince(baseline)).as("only the held region is still locked")
                .isEqualTo(heldBytes).isEqualTo(cache.pinnedBytes());
        assertThat(pageLocked(handle.address())).isTrue();
        assertThatThrownBy(() -> cache.acquire(held, 0, 1)).isInstanceOf(IllegalStateException.class);

        handle.release();
        assertThat(cache.pinnedBytes()).isZero();
        assertThat(ProcessStatus.vmLckBytes()).as("released after close: unpinned at once").isEqualTo(baseline);
        assertThat(cache.idleRegions()).isZero();
    }

    @Test
    void freeingMemoryUnderARegionInUseIsRefusedAndLeavesItMappedAndPinned() {
        NativeBuffer memory = NativeMemory.allocate(3 * (int) PAGE, true);
        List<String> events = new ArrayList<>();
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build())) {
            cache.addListener(recording(events));
            PinHandle handle = cache.acquire(memory, 100, 2 * (int) PAGE - 200); // pages 0-1
            for (int i = 0; i < memory.capacity(); i++) {
                memory.buffer().put(i, (byte) (i * 7));
            }

            assertThatThrownBy(memory::close)
                    .isInstanceOf(PinInUseException.class)
                    .hasMessageContaining("in use")
                    .hasMessageContaining("release");
            assertThat(memory.isFreed()).isFalse();
            KernelView.Mapping mapping = KernelView.mappingAt(memory.address());
            assertThat(mapping).as("still mapped").isNotNull();
            assertThat(mapping.perms()).isEqualTo("rw-p");
            for (int i = 0; i < memory.capacity(); i++) {
                assertThat(memory.buffer().get(i)).as("byte %d survives the refused free", i).isEqualTo((byte) (i * 7));
            }
            assertThat(lockedSince(baseline)).as("still pinned").isEqualTo(2 * PAGE).isEqualTo(cache.pinnedBytes());
            assertThat(pageLocked(memory.address())).isTrue();
            assertThat(events).as("listeners were told to drop their translations, nothing unpinned")
                    .allMatch(e -> e.startsWith("invalidate"));

            handle.release();
            events.clear();
            memory.close();
            assertThat(memory.isFreed()).isTrue();
            assertThat(events).containsExactly(
                    "invalidate " + memory.address() + " " + 3 * PAGE,
                    "unpin " + memory.address() + " " + 2 * PAGE + " INVALIDATED");
            assertThat(cache.idleRegions()).isZero();
            assertThat(cache.stats().invalidations()).isEqualTo(1);
            assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
        } finally {
            if (!memory.isFreed()) {
                memory.close();
            }
        }
    }

    @Test
    void freeingMemoryWithOnlyIdlePinsDropsThemFirst() {
        NativeBuffer memory = NativeMemory.allocate(5 * (int) PAGE);
        NativeBuffer other = NativeMemory.allocate(2 * (int) PAGE);
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build())) {
            cache.acquire(memory, 0, (int) PAGE).release();
            cache.acquire(memory, 3 * (int) PAGE, 2 * (int) PAGE).release();
            PinHandle elsewhere = cache.acquire(other, 0, 10);
            assertThat(lockedSince(baseline)).isEqualTo(4 * PAGE);

            memory.close();
            assertThat(cache.idleRegions()).isZero();
            assertThat(cache.pinnedBytes()).isEqualTo(PAGE);
            assertThat(lockedSince(baseline)).as("only the other memory's pin is left").isEqualTo(PAGE);
            assertThat(pageLocked(other.address())).isTrue();
            elsewhere.release();
        } finally {
            other.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void freeingMemoryUnderARegionStillInUseAfterCloseIsRefused() {
        NativeBuffer memory = NativeMemory.allocate(2 * (int) PAGE);
        PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build());
        PinHandle handle = cache.acquire(memory, 0, 2 * (int) PAGE);
        cache.close();

        assertThatThrownBy(memory::close).isInstanceOf(PinInUseException.class);
        assertThat(memory.isFreed()).isFalse();
        assertThat(lockedSince(baseline)).isEqualTo(2 * PAGE);

        handle.release();
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
        memory.close();
        assertThat(memory.isFreed()).isTrue();
    }

    @Test
    void invalidateUnpinsIdleRegionsAtOnceAndRegionsInUseAtTheirLastRelease() {
        NativeBuffer memory = NativeMemory.allocate(8 * (int) PAGE);
        List<String> events = new ArrayList<>();
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build())) {
            cache.addListener(recording(events));
            long base = memory.address();
            cache.acquire(memory, 0, 2 * (int) PAGE).release();                   // idle, pages 0-1
            PinHandle inUse = cache.acquire(memory, 3 * (int) PAGE, 2 * (int) PAGE); // pages 3-4
            PinHandle twice = cache.acquire(memory, 3 * (int) PAGE, 2 * (int) PAGE);
            PinHandle outside = cache.acquire(memory, 6 * (int) PAGE, 10);          // page 6
            assertThat(lockedSince(baseline)).isEqualTo(5 * PAGE);

            int deferred = cache.invalidate(base + 1, 5 * PAGE);                    // pages 0-5
            assertThat(deferred).as("one region in use overlaps").isEqualTo(1);
            assertThat(events).containsExactly(
                    "invalidate " + base + " " + 6 * PAGE,
                    "unpin " + base + " " + 2 * PAGE + " INVALIDATED");
            assertThat(lockedSince(baseline)).isEqualTo(3 * PAGE).isEqualTo(cache.pinnedBytes());

            twice.release();
            assertThat(lockedSince(baseline)).as("still one user of pages 3-4").isEqualTo(3 * PAGE);
            inUse.release();
            assertThat(lockedSince(baseline)).as("last release of a doomed region unpins it").isEqualTo(PAGE);
            assertThat(cache.idleRegions()).isZero();
            assertThat(events).last().isEqualTo("unpin " + (base + 3 * PAGE) + " " + 2 * PAGE + " INVALIDATED");
            assertThat(cache.stats().invalidations()).isEqualTo(2);

            outside.release();
            assertThat(cache.idleRegions()).isEqualTo(1);
            assertThat(cache.invalidate(base, 8 * PAGE)).isZero();
            assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
        } finally {
            memory.close();
        }
    }

    static PinListener recording(List<String> events) {
        return new PinListener() {
            @Override
            public void onInvalidate(long address, long length) {
                events.add("invalidate " + address + " " + length);
            }

            @Override
            public void beforeUnpin(long address, long length, UnpinCause cause) {
                events.add("unpin " + address + " " + length + " " + cause);
            }
        };
    }
}
