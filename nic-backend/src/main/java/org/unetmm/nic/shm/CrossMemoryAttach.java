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
 * a NIC opens, as UCX's {@code cma} transport does: Yama's {@code ptrace_scope} first, then a test
 * read of its own memory (a seccomp filter or a kernel without CMA fails it with EPERM or ENOSYS).
 *
 * <p>Yama (Documentation/admin-guide/LSM/Yama.rst): at scope 0 any process of the user may read
 * another; at 1 only an ancestor may, unless the read process named its reader with
 * {@code prctl(PR_SET_PTRACER)}; 2 needs CAP_SYS_PTRACE; 3 forbids it. Two NICs are rarely parent
 * and child (a server and its clients are siblings), so at scope 1 every NIC that uses rendezvous
 * calls {@code prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)}, as Open MPI's vader BTL does for its CMA
 * path: any process of this user may then read this one, which the kernel's uid check still
 * limits to this user. Where Yama is not built in (no {@code ptrace_scope} file) the call is not
 * needed and not made (the kernel would answer EINVAL). Peers of different users are refused by
 * the kernel (and by the region's mode 0600) whatever this says.
 *
 * @param allowed     whether rendezvous may be used
 * @param reason      why not, naming the fix; empty when allowed
 * @param description what the probe found and did (Yama's scope, whether it called PR_SET_PTRACER,
 *                    the test read), for the log and the run record
 */
record CrossMemoryAttach(boolean allowed, String reason, String description) {
    static final Path PTRACE_SCOPE = Path.of("/proc/sys/kernel/yama/ptrace_scope");
    /** {@link #ptraceScope} where Yama is not built in. */
    static final int NO_YAMA = -1;

    /** Rendezvous switched off by the URI: nothing probed, nothing called. */
    static CrossMemoryAttach switchedOff() {
        String why = "cma=false in the transport URI: every fragment travels inline";
        return new CrossMemoryAttach(false, why, why);
    }

    static CrossMemoryAttach probe() {
        return probe(PTRACE_SCOPE);
    }

    /** The probe with Yama's setting read from {@code ptraceScopeFile} (a test points it elsewhere). */
    static CrossMemoryAttach probe(Path ptraceScopeFile) {
        int scope = ptraceScope(ptraceScopeFile);
        String yama;
        if (scope == NO_YAMA) {
            yama = "Yama is not built into this kernel (no " + ptraceScopeFile + "): PR_SET_PTRACER is not needed and"
                    + " was not called";
        } else if (scope == 0) {
            yama = "Yama ptrace_scope is 0: processes of this user may read each other; PR_SET_PTRACER is not needed and"
                    + " was not called";
        } else if (scope == 1) {
            int result = Libc.setPtracer(Libc.PR_SET_PTRACER_ANY);
            if (result != 0) {
                return refused("Yama ptrace_scope is 1 (" + ptraceScopeFile + ") and prctl(PR_SET_PTRACER,"
                        + " PR_SET_PTRACER_ANY) failed with " + Errno.name(-result) + ": peers may not read this process's"
                        + " memory; large messages travel inline. To allow cross-memory attach run"
                        + " 'sysctl kernel.yama.ptrace_scope=0', or pass cma=false to say so");
            }
            yama = "Yama ptrace_scope is 1: called prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY) so that peers of this user"
                    + " may read this process";
        } else {
            return refused("Yama ptrace_scope is " + scope + " (" + ptraceScopeFile + "): processes may not read each"
                    + " other's memory" + (scope == 2 ? " without CAP_SYS_PTRACE" : "") + "; large messages travel inline."
                    + " To allow cross-memory attach run 'sysctl kernel.yama.ptrace_scope=0' (3 holds until reboot),"
                    + " or pass cma=false to say so");
        }
        try (NativeBuffer block = NativeMemory.allocate((int) NativeMemory.pageSize())) {
            long base = block.address();
            block.buffer().putLong(64, 0x5EED_CAFE_F00D_D00DL);
            block.buffer().putLong(0, base + 72).putLong(8, 8);   // local iovec: [72, 80)
            block.buffer().putLong(16, base + 64).putLong(24, 8); // remote iovec: [64, 72)
            long read = Libc.processVmReadv(Libc.getpid(), base, 1, base + 16, 1);
            if (read != 8 || block.buffer().getLong(72) != 0x5EED_CAFE_F00D_D00DL) {
                return refused(yama + "; but a test process_vm_readv of this process's own memory "
                        + (read < 0 ? "failed with " + Errno.name((int) -read) : "read " + read + " of 8 bytes")
                        + " (a seccomp filter, a container's profile or a kernel without CONFIG_CROSS_MEMORY_ATTACH);"
                        + " large messages travel inline. Allow process_vm_readv in the profile, or pass cma=false");
            }
        }
        return new CrossMemoryAttach(true, "", yama + "; a test process_vm_readv of this process's own memory read 8 bytes");
    }

    private static CrossMemoryAttach refused(String why) {
        return new CrossMemoryAttach(false, why, why);
    }

    /** Yama's ptrace_scope, {@link #NO_YAMA} where Yama is not built in, 3 (the strictest) if unreadable. */
    static int ptraceScope(Path file) {
        try {
            return Integer.parseInt(String.join("", Files.readAllLines(file)).trim()); // by lines: a whole /proc/sys value
        } catch (NoSuchFileException e) {
            return NO_YAMA;
        } catch (IOException | NumberFormatException e) {
            return 3;
        }
    }
}
