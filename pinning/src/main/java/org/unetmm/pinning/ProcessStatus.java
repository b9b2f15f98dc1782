package org.unetmm.pinning;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's own accounting of this process, from {@code /proc/self/status} (proc(5)): the
 * figure every pinning test holds the library's count against (DESIGN §4, invariant 1).
 */
public final class ProcessStatus {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final int CAP_IPC_LOCK = 14;

    private ProcessStatus() {
    }

    /** {@return VmLck: bytes of memory this process has locked, as the kernel counts them} */
    public static long vmLckBytes() {
        return field("VmLck:") * 1024L;
    }

    /** {@return whether the effective capability set holds CAP_IPC_LOCK (lock without limit)} */
    public static boolean hasCapIpcLock() {
        long capEff = Long.parseUnsignedLong(text("CapEff:"), 16);
        return (capEff & (1L << CAP_IPC_LOCK)) != 0;
    }

    private static long field(String name) {
        String value = text(name);
        int space = value.indexOf(' ');
        return Long.parseLong(space < 0 ? value : value.substring(0, space));
    }

    private static String text(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    return line.substring(name.length()).trim();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + STATUS, e);
        }
        throw new IllegalStateException(STATUS + " has no " + name + " line");
    }
}
