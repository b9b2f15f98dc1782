package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.unetmm.pinning.KernelView.lockedSince;

import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A pin keeps the buffer that owns the memory strongly reachable (DESIGN §3), so the collector
 * cannot free memory the NIC may still touch; once unpinned, the cache no longer holds it.
 */
@Timeout(60)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheReachabilityTest {
    private static final int MAX_COLLECTIONS = 20;

    @Test
    void bufferReferencedOnlyByAPinIsNotCollectedUntilReleasedAndEvicted() {
        long baseline = ProcessStatus.vmLckBytes();
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(1 << 20).build())) {
            List<PinHandle> handles = new ArrayList<>();
            WeakReference<ByteBuffer> buffer = pinUnreferencedBuffer(cache, handles);
            WeakReference<ByteBuffer> sliced = pinUnreferencedSlice(cache, handles);

            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            assertThat(buffer.get()).as("pinned buffer, held only through its handle").isNotNull();
            assertThat(sliced.get()).as("buffer behind a pinned slice").isNotNull();
            assertThat(lockedSince(baseline)).isEqualTo(cache.pinnedBytes()).isPositive();
            PinHandle handle = handles.get(0);
            for (int i = 0; i < 3 * 4096; i++) {
                assertThat(handle.owner().get(i)).as("byte %d", i).isEqualTo((byte) i);
            }

            handles.forEach(PinHandle::release);
            handles.clear();
            handle = null;
            System.gc();
            assertThat(buffer.get()).as("an idle pin still holds its buffer: its pages are still locked").isNotNull();
            assertThat(lockedSince(baseline)).isEqualTo(cache.pinnedBytes()).isPositive();

            cache.evictIdle();
            assertThat(lockedSince(baseline)).isZero();
            int collections = 0;
            while ((buffer.get() != null || sliced.get() != null) && collections < MAX_COLLECTIONS) {
                System.gc();
                collections++;
            }
            assertThat(buffer.get()).as("collected within %d System.gc() calls after release and eviction",
                    MAX_COLLECTIONS).isNull();
            assertThat(sliced.get()).isNull();
        }
    }

    /** Pins a fresh direct buffer and keeps no reference to it except the handle. */
    private static WeakReference<ByteBuffer> pinUnreferencedBuffer(PinCache cache, List<PinHandle> handles) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(3 * 4096 + 99);
        for (int i = 0; i < 3 * 4096; i++) {
            buffer.put(i, (byte) i);
        }
        handles.add(cache.acquire(buffer, 0, 3 * 4096));
        return new WeakReference<>(buffer);
    }

    /** Pins a slice of a fresh direct buffer: the slice keeps the buffer that owns the memory alive. */
    private static WeakReference<ByteBuffer> pinUnreferencedSlice(PinCache cache, List<PinHandle> handles) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(5 * 4096);
        handles.add(cache.acquire(buffer.slice(4097, 8000), 3, 5000));
        return new WeakReference<>(buffer);
    }
}
