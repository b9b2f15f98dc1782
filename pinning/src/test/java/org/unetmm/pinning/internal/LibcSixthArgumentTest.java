package org.unetmm.pinning.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * The calls of the binding that take six integer arguments, with jnr-ffi's x86 stubs left on for
 * the JVM (nothing here sets {@code jnr.ffi.x86asm.enabled}): jnr-ffi's x86-64 stub reads the
 * sixth from the wrong stack slot, so without the binding's {@code @NoX86} both fail with EINVAL.
 */
class LibcSixthArgumentTest {
    @Test
    void theJvmWidePropertyIsNotSetByTheBinding() {
        Libc.pageSize(); // loads the binding
        assertThat(System.getProperty("jnr.ffi.x86asm.enabled")).isNull();
    }

    @Test
    void processVmReadvOfOwnMemoryGetsFlagsZeroAndCopiesTheBytes() {
        try (NativeBuffer from = NativeMemory.allocate(4096); NativeBuffer to = NativeMemory.allocate(4096);
             NativeBuffer iovs = NativeMemory.allocate(64)) {
            for (int i = 0; i < 1000; i++) {
                from.buffer().put(i, (byte) (i * 7 + 3));
            }
            ByteBuffer iov = iovs.buffer().order(java.nio.ByteOrder.nativeOrder());
            iov.putLong(0, to.address()).putLong(8, 1000); // local: where the bytes go
            iov.putLong(16, from.address()).putLong(24, 1000); // remote: this process's own bytes
            long read = Libc.processVmReadv(Libc.getpid(), iovs.address(), 1, iovs.address() + 16, 1);
            assertThat(read).as("bytes read, or -errno (-22 = EINVAL: the sixth argument, flags, arrived non-zero)")
                    .isEqualTo(1000);
            for (int i = 0; i < 1000; i++) {
                assertThat(to.buffer().get(i)).as("byte %d", i).isEqualTo((byte) (i * 7 + 3));
            }
        }
    }

    @Test
    void mmapGetsOffsetZeroAndMapsPageAlignedMemory() {
        long length = 4 * Libc.pageSize();
        long address = Libc.mmapAnonymous(length, Libc.PROT_READ | Libc.PROT_WRITE); // throws on EINVAL (an unaligned offset)
        try {
            assertThat(address % Libc.pageSize()).isZero();
        } finally {
            Libc.munmap(address, length);
        }
    }
}
