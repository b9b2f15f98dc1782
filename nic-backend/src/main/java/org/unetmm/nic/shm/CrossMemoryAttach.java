package org.unetmm.nic.shm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;

/**
 * Whether this process may read a peer's memory with {@code process_vm_readv(2)}, found once when
 * a NIC opens, as UCX's {@code cma} transport does: a test read of its own memory (a seccomp filter
 * or a kernel without CMA fails it with EPERM or ENOSYS), and Yama's {@code ptrace_scope}
 * (1: only a descendant may be read unless it called {@code PR_SET_PTRACER}; 2: only with
 * CAP_SYS_PTRACE; 3: never). Peers of different users are refused by the kernel (and by the
 * region's mode 0600) whatever this says.
 *
 * @param allowed whether rendezvous may be used
 * @param reason  why not, naming the fix; empty when allowed
 */
record CrossMemoryAttach(boolean allowed, String reason) {
    static final Path PTRACE_SCOPE = Path.of("/proc/sys/kernel/yama/ptrace_scope");

    static CrossMemoryAttach probe() {
        int scope = ptraceScope();
        if (scope >= 1) {
            return new CrossMemoryAttach(false, "Yama ptrace_scope is " + scope + " (" + PTRACE_SCOPE
                    + "): processes may not read each other's memory; large messages travel inline. To allow"
                    + " cross-memory attach run 'sysctl kernel.yama.ptrace_scope=0', or pass cma=false to say so");
        }
        try (NativeBuffer block = NativeMemory.allocate((int) NativeMemory.pageSize())) {
            long base = block.address();
            block.buffer().putLong(64, 0x5EED_CAFE_F00D_D00DL);
            block.buffer().putLong(0, base + 72).putLong(8, 8);   // local iovec: [72, 80)
            block.buffer().putLong(16, base + 64).putLong(24, 8); // remote iovec: [64, 72)
            long read = Libc.processVmReadv(Libc.getpid(), base, 1, base + 16, 1);
            if (read != 8 || block.buffer().getLong(72) != 0x5EED_CAFE_F00D_D00DL) {
                return new CrossMemoryAttach(false, "a test process_vm_readv of this process's own memory "
                        + (read < 0 ? "failed with " + Errno.name((int) -read) : "read " + read + " of 8 bytes")
                        + " (a seccomp filter, a container's profile or a kernel without CONFIG_CROSS_MEMORY_ATTACH);"
                        + " large messages travel inline. Allow process_vm_readv in the profile, or pass cma=false");
            }
        }
        return new CrossMemoryAttach(true, "");
    }

    /** Yama's ptrace_scope, 0 where Yama is not built in. */
    static int ptraceScope() {
        try {
            return Integer.parseInt(String.join("", Files.readAllLines(PTRACE_SCOPE)).trim()); // by lines: a whole /proc/sys value
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | NumberFormatException e) {
            return 3;
        }
    }
}
