package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/** Misuse of the pin cache is refused with an error that names the fix, and pins nothing. */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheMisuseTest {
    private long baseline;
    private PinCache cache;

    @BeforeEach
    void setUp() {
        baseline = ProcessStatus.vmLckBytes();
        cache = new PinCache(PinCacheConfig.builder().budgetBytes(64 * PAGE).build());
    }

    @AfterEach
    void tearDown() {
        cache.close();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline").isEqualTo(baseline);
    }

    @Test
    void heapBufferIsRefusedWithAMessageNamingTheFixedSegmentPath() {
        ByteBuffer heap = ByteBuffer.allocate(4096);
        assertThatThrownBy(() -> cache.acquire(heap, 0, 100))
                .isInstanceOf(UnpinnableBufferException.class)
                .hasMessageContaining("FIXED_SEGMENT")
                .hasMessageContaining("direct buffer");
        assertThatThrownBy(() -> cache.acquire(heap))
                .isInstanceOf(UnpinnableBufferException.class);
        assertThat(cache.pinnedBytes()).isZero();
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void rangeOutsideTheBufferIsRefused() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1000);
        assertThatThrownBy(() -> cache.acquire(buffer, 900, 101))
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("capacity 1000");
        assertThatThrownBy(() -> cache.acquire(buffer, -1, 10)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> cache.acquire(buffer, 1000, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> cache.acquire(buffer, Integer.MAX_VALUE, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> cache.acquire(buffer, 1, Integer.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
        // a slice's range is checked against the slice, not the memory behind it
        ByteBuffer slice = ByteBuffer.allocateDirect(8192).slice(100, 50);
        assertThatThrownBy(() -> cache.acquire(slice, 0, 51)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(cache.pinnedBytes()).isZero();
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void zeroOrNegativeLengthIsRefused() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1000);
        assertThatThrownBy(() -> cache.acquire(buffer, 0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("length must be positive");
        assertThatThrownBy(() -> cache.acquire(buffer, 10, -5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cache.acquire(ByteBuffer.allocateDirect(0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cache.invalidate(NativeMemory.address(buffer), 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(cache.pinnedBytes()).isZero();
    }

    @Test
    void nullBufferIsRefused() {
        assertThatThrownBy(() -> cache.acquire((ByteBuffer) null, 0, 1)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void secondReleaseOfAHandleIsRefusedAndUnpinsNothingTwice() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(3 * (int) PAGE);
        PinHandle first = cache.acquire(buffer, 10, 5000);
        PinHandle second = cache.acquire(buffer, 10, 5000);
        first.release();
        assertThatThrownBy(first::release)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already released");
        first.close(); // close after release is a no-op, not a second release
        assertThat(cache.inUseRegions()).as("the second handle still holds the region").isEqualTo(1);
        assertThat(lockedSince(baseline)).isEqualTo(cache.pinnedBytes()).isPositive();
        assertThat(first.isReleased()).isTrue();
        assertThat(second.isReleased()).isFalse();
        second.release();
        assertThat(cache.inUseRegions()).isZero();
        assertThat(cache.idleRegions()).isEqualTo(1);
    }

    @Test
    void acquireAfterCloseIsRefused() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        cache.close();
        assertThat(cache.isClosed()).isTrue();
        assertThatThrownBy(() -> cache.acquire(buffer, 0, 10))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        cache.close(); // idempotent
        assertThat(lockedSince(baseline)).isZero();
    }

    @Test
    void freedNativeMemoryCannotBePinned() {
        NativeBuffer memory = NativeMemory.allocate(4096);
        memory.close();
        assertThatThrownBy(() -> cache.acquire(memory, 0, 10))
                .isInstanceOf(UnpinnableBufferException.class)
                .hasMessageContaining("freed");
    }

    @Test
    void budgetAndConfigurationAreValidatedWhenBuilt() {
        assertThatThrownBy(() -> PinBudget.ofBytes(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unlimited()");
        assertThatThrownBy(() -> PinBudget.ofBytes(-4096)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PinBudget(4096, " ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PinCacheConfig(null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(PinBudget.unlimited().isUnlimited()).isTrue();
        assertThat(PinBudget.ofBytes(8192).toString()).contains("8192").contains("configured");
    }
}
