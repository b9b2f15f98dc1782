package org.unetmm.bench;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * A cross-process stream's buffers, as an application keeps a pool: {@code count} buffers of
 * {@code size} bytes carved from one allocation, a small one on cache lines of its own (64 B
 * apart), one of a page or more starting on a page. One page per 64-byte buffer (512 of them
 * for the receiver, 256 sources) had made every small message a TLB walk and a cache miss on
 * each side that no real pool pays.
 */
final class BufferPool implements AutoCloseable {
    private static final int LINE = 64;
    private final NativeBuffer memory;
    private final ByteBuffer[] slices;
    private final int size;

    /** {@code count} buffers of {@code size} bytes (at least one each), zero-filled. */
    BufferPool(int size, int count) {
        this.size = Math.max(1, size);
        long stride = stride(this.size);
        long bytes = stride * Math.max(1, count);
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(count + " buffers of " + size + " B do not fit one allocation (2 GiB)");
        }
        this.memory = NativeMemory.allocate((int) bytes);
        this.slices = new ByteBuffer[count];
        for (int i = 0; i < count; i++) {
            slices[i] = memory.buffer().slice((int) (i * stride), this.size).order(memory.buffer().order()); // slice() resets the order
        }
    }

    /** How far apart buffers of {@code size} bytes lie: whole cache lines below a page, whole pages from one. */
    static long stride(int size) {
        long page = NativeMemory.pageSize();
        long bytes = Math.max(1, size);
        return bytes < page ? (bytes + LINE - 1) & -LINE : (bytes + page - 1) & -page;
    }

    /** The pages {@code count} buffers of {@code size} bytes span, in bytes: what pinning all of them locks. */
    static long pinnedBytes(int size, int count) {
        long page = NativeMemory.pageSize();
        return (stride(size) * Math.max(1, count) + page - 1) & -page;
    }

    /** {@code count} buffers of {@code size} bytes, each filled with its own pattern (as {@link CompareRun#sendBuffers}). */
    static BufferPool filled(int size, int count) {
        BufferPool pool = new BufferPool(size, count);
        for (int i = 0; i < count; i++) {
            CompareRun.fill(pool.slices[i], size, i);
        }
        return pool;
    }

    /** Buffer {@code i}: a direct slice of {@code size} bytes, position 0. */
    ByteBuffer get(int i) {
        return slices[i];
    }

    int count() {
        return slices.length;
    }

    @Override
    public void close() {
        memory.close();
    }
}
