package org.unetmm.nic.shm;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Libc;

/**
 * Not a test (cost is measured, not asserted): the CPU time one fragment costs each way across the
 * shm wire, per size, measured in the thread's own CPU time so that a loaded machine stretches it
 * little: <em>inline</em> is two copies (into the ring, out into the posted buffer), <em>rendezvous</em>
 * one {@code process_vm_readv(2)} of one iovec (here of this process's own memory, the same kernel
 * path: the remote pages pinned 16 at a time, copied, unpinned). Buffers rotate through a working set
 * ({@code -Dws=} bytes, default 64 MiB, past the last-level cache, as a stream's are); repeats
 * interleave the two. The size where rendezvous costs less than inline is the eager threshold's
 * candidate (docs/architecture.md, "The eager threshold"). Run with the built jar:
 * {@code java -cp benchmarks/target/unetmm.jar nic-backend/src/test/java/org/unetmm/nic/shm/ShmCopyCostMeasure.java [repeats]}.
 */
public final class ShmCopyCostMeasure {
    private static final int WORKING_SET = Integer.getInteger("ws", 64 << 20);
    private static final long BYTES_PER_ROUND = 64L << 20;

    private ShmCopyCostMeasure() {
    }

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int[] sizes = Arrays.stream(System.getProperty("sizes", "4096,8192,16384,32768,65536,131072,262144,524288,1048576")
                .split(",")).mapToInt(Integer::parseInt).toArray();
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        int pid = (int) ProcessHandle.current().pid();
        try (NativeBuffer source = NativeMemory.allocate(WORKING_SET); NativeBuffer ring = NativeMemory.allocate(WORKING_SET);
             NativeBuffer target = NativeMemory.allocate(WORKING_SET); NativeBuffer iovs = NativeMemory.allocate(4096)) {
            ByteBuffer iov = iovs.buffer().order(ByteOrder.LITTLE_ENDIAN);
            System.out.printf("working set %d MiB, %d repeats, CPU ns per fragment: median [min-max]%n", WORKING_SET >> 20, repeats);
            for (int size : sizes) {
                double[] inline = new double[repeats];
                double[] rendezvous = new double[repeats];
                int count = (int) Math.max(200, BYTES_PER_ROUND / size);
                for (int r = -1; r < repeats; r++) { // r = -1 warms up
                    long t0 = cpu.getCurrentThreadCpuTime();
                    for (int i = 0; i < count; i++) {
                        int at = offset(i, size);
                        NativeMemory.copy(source.buffer(), at, ring.buffer(), at, size);
                        NativeMemory.copy(ring.buffer(), at, target.buffer(), at, size);
                    }
                    long t1 = cpu.getCurrentThreadCpuTime();
                    for (int i = 0; i < count; i++) {
                        int at = offset(i, size);
                        iov.putLong(0, target.address() + at).putLong(8, size).putLong(16, source.address() + at).putLong(24, size);
                        long read = Libc.processVmReadv(pid, iovs.address(), 1, iovs.address() + 16, 1);
                        if (read != size) {
                            throw new IllegalStateException("process_vm_readv read " + read + " of " + size + " bytes");
                        }
                    }
                    long t2 = cpu.getCurrentThreadCpuTime();
                    if (r >= 0) {
                        inline[r] = (t1 - t0) / (double) count;
                        rendezvous[r] = (t2 - t1) / (double) count;
                    }
                }
                Arrays.sort(inline);
                Arrays.sort(rendezvous);
                System.out.printf("%8d B  inline %8.0f [%.0f-%.0f]  rendezvous %8.0f [%.0f-%.0f]  rendezvous/inline %.2f%n", size,
                        inline[repeats / 2], inline[0], inline[repeats - 1], rendezvous[repeats / 2], rendezvous[0],
                        rendezvous[repeats - 1], rendezvous[repeats / 2] / inline[repeats / 2]);
            }
        }
    }

    private static int offset(int i, int size) {
        long at = ((long) i * size) % WORKING_SET & ~4095L;
        return (int) (at + size > WORKING_SET ? 0 : at);
    }
}
