package org.unetmm.nic.shm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.unetmm.pinning.internal.Libc;

/**
 * Shared memory whose size nobody can change: a {@code memfd} (memfd_create(2)) sized once and
 * sealed with {@code F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL}, so a mapping of it can never
 * fault. A plain file under {@code /dev/shm} could: a process of the same user that truncates a
 * mapped file makes every later access to the lost pages a SIGBUS, which the JVM turns into an
 * {@code InternalError} raised some time after the access that faulted, when what was read may
 * already have been delivered. The shm wire keeps its regions and fixed segments in such memfds.
 *
 * <p>Another process reaches one through its owner's descriptor table, {@code /proc/<pid>/fd/<fd>}:
 * opening that link is a read of the owner's process (the same user, or CAP_SYS_PTRACE, and a
 * dumpable owner, as every JVM is unless it changed credentials); Yama restricts only attaching, so
 * it works at every {@code ptrace_scope}. The opener checks the seals before it maps, so a file
 * that is not sealed against shrinking is never mapped from a peer.
 */
final class SealedMemfd {
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int MFD_CLOEXEC = 1;
    private static final int MFD_ALLOW_SEALING = 2;
    private static final int F_ADD_SEALS = 1033;
    private static final int F_GET_SEALS = 1034;
    private static final int F_SEAL_SEAL = 1;
    private static final int F_SEAL_SHRINK = 2;
    private static final int F_SEAL_GROW = 4;

    private SealedMemfd() {
    }

    /** A new memfd of {@code length} bytes (zeros), sealed; the caller owns the descriptor. */
    static int create(String label, long length) {
        int fd = Libc.binding().memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) {
            throw new ShmException("cannot create shared memory for " + label + ": memfd_create failed, errno "
                    + Libc.lastErrno() + " (it needs Linux 3.17 or later)");
        }
        if (Libc.binding().ftruncate(fd, length) != 0
                || Libc.binding().fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
            int errno = Libc.lastErrno();
            close(fd);
            throw new ShmException("cannot size and seal the shared memory of " + label + " (" + length + " bytes): errno "
                    + errno + "; is memory short?");
        }
        return fd;
    }

    /** A channel over this process's memfd {@code fd}, to read, write or map it; close it after. */
    static FileChannel channel(int fd, boolean write) throws IOException {
        return FileChannel.open(Path.of("/proc/self/fd/" + fd), write
                ? new StandardOpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE}
                : new StandardOpenOption[] {StandardOpenOption.READ});
    }

    /**
     * A channel over memfd {@code fd} of process {@code pid}, or null when it cannot be opened (no
     * such descriptor, another user's process, a {@code hidepid} /proc, another pid namespace) or
     * is not sealed against shrinking. The caller checks what it holds before trusting it.
     */
    static FileChannel openPeer(int pid, int fd, boolean write) {
        if (pid <= 0 || fd < 0) {
            return null;
        }
        int local = Libc.binding().open("/proc/" + pid + "/fd/" + fd, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (local < 0) {
            return null;
        }
        try {
            int seals = Libc.binding().fcntl(local, F_GET_SEALS, 0);
            if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) {
                return null; // not a sealed memfd: its size could change under a mapping
            }
            return channel(local, write);
        } catch (IOException e) {
            return null;
        } finally {
            close(local);
        }
    }

    static void close(int fd) {
        if (fd >= 0) {
            Libc.binding().close(fd);
        }
    }
}
