package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.mappingAt;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.unetmm.pinning.internal.Libc;

/** Page-aligned memory from mmap, its guard pages as the kernel maps them, and buffer addresses. */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class NativeMemoryTest {

    @Test
    void guardedMemorySitsBetweenTwoProtNoneMappings() {
        int bytes = 3 * (int) PAGE + 1;
        long usable = 4 * PAGE;
        try (NativeBuffer memory = NativeMemory.allocate(bytes, true)) {
            long address = memory.address();
            assertThat(memory.guarded()).isTrue();
            assertThat(address % PAGE).as("page-aligned").isZero();

            KernelView.Mapping before = mappingAt(address - 1);
            KernelView.Mapping body = mappingAt(address);
            KernelView.Mapping after = mappingAt(address + usable);
            assertThat(before).as("the page right before the buffer is mapped").isNotNull();
            assertThat(before.perms()).isEqualTo("---p");
            assertThat(before.end()).isEqualTo(address);
            assertThat(body.perms()).isEqualTo("rw-p");
            assertThat(body.start()).isEqualTo(address);
            assertThat(body.end()).as("the usable pages end where the upper guard starts").isEqualTo(address + usable);
            assertThat(after).as("the page right after the buffer is mapped").isNotNull();
            assertThat(after.perms()).isEqualTo("---p");
            assertThat(after.start()).isEqualTo(address + usable);
        }
    }

    @Test
    void unguardedMemoryIsOneReadWriteMapping() {
        try (NativeBuffer memory = NativeMemory.allocate(2 * (int) PAGE)) {
            assertThat(memory.guarded()).isFalse();
            KernelView.Mapping body = mappingAt(memory.address());
            assertThat(body.perms()).isEqualTo("rw-p");
            assertThat(body.contains(memory.address() + 2 * PAGE - 1)).isTrue();
        }
    }

    @Test
    void allocationIsZeroFilledWritableAndInNativeOrder() {
        try (NativeBuffer memory = NativeMemory.allocate(10_000, true)) {
            ByteBuffer buffer = memory.buffer();
            assertThat(buffer.isDirect()).isTrue();
            assertThat(buffer.capacity()).isEqualTo(10_000).isEqualTo(memory.capacity());
            assertThat(buffer.order()).isEqualTo(ByteOrder.nativeOrder());
            assertThat(NativeMemory.address(buffer)).isEqualTo(memory.address());
            for (int i = 0; i < buffer.capacity(); i++) {
                assertThat(buffer.get(i)).as("byte %d", i).isZero();
                buffer.put(i, (byte) (i ^ 0x5a));
            }
            for (int i = 0; i < buffer.capacity(); i++) {
                assertThat(buffer.get(i)).as("byte %d", i).isEqualTo((byte) (i ^ 0x5a));
            }
        }
    }

    @Test
    void closeUnmapsOnceAndSecondCloseIsANoOp() {
        NativeBuffer memory = NativeMemory.allocate(3 * (int) PAGE, true);
        long address = memory.address();
        memory.close();
        assertThat(memory.isFreed()).isTrue();
        assertThat(mappingAt(address)).as("the usable pages are gone").isNull();
        memory.close();
        assertThat(memory.isFreed()).isTrue();
    }

    @Test
    void addressOfADirectBufferAndOfItsSlices() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1000);
        long address = NativeMemory.address(buffer);
        assertThat(address).isPositive();
        assertThat(NativeMemory.address(buffer.slice(17, 100))).isEqualTo(address + 17);
        assertThat(NativeMemory.address(buffer.duplicate().position(40).slice())).isEqualTo(address + 40);
    }

    @Test
    void addressOfAHeapBufferIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> NativeMemory.address(ByteBuffer.allocate(16)))
                .isInstanceOf(UnpinnableBufferException.class)
                .hasMessageContaining("direct buffer")
                .hasMessageContaining("FIXED_SEGMENT");
        assertThatThrownBy(() -> NativeMemory.address(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void nonPositiveSizesAreRefused() {
        assertThatThrownBy(() -> NativeMemory.allocate(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NativeMemory.allocate(-1, true)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pageArithmetic() {
        assertThat(NativeMemory.pageSize()).isEqualTo(Libc.pageSize()).isPositive();
        assertThat(Long.bitCount(PAGE)).as("a power of two").isEqualTo(1);
        assertThat(NativeMemory.roundUpToPage(1)).isEqualTo(PAGE);
        assertThat(NativeMemory.roundUpToPage(PAGE)).isEqualTo(PAGE);
        assertThat(NativeMemory.roundUpToPage(PAGE + 1)).isEqualTo(2 * PAGE);
        assertThat(NativeMemory.pageOf(5 * PAGE + 7)).isEqualTo(5);
    }
}
