package org.unetmm.pinning;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the kernel itself says about this process's memory, for tests to hold the library
 * against: {@code /proc/self/maps} for mappings and their protection, {@code /proc/self/smaps}
 * for whether a page's mapping is locked ({@code lo} in VmFlags), {@code /proc/self/status} for
 * the uid. (VmLck itself comes from the library's {@link ProcessStatus}.)
 */
final class KernelView {
    static final long PAGE = NativeMemory.pageSize();
    static final int CAP_SYS_ADMIN = 21;
    /**
     * The process's locked memory (VmLck) is one figure for the whole JVM: tests that measure it
     * hold this lock, so they never run alongside each other even if parallel execution is enabled.
     */
    static final String LOCKED_MEMORY = "org.unetmm.pinning:VmLck";

    private static final Path MAPS = Path.of("/proc/self/maps");
    private static final Path SMAPS = Path.of("/proc/self/smaps");
    private static final Path STATUS = Path.of("/proc/self/status");

    private KernelView() {
    }

    /** One line of /proc/self/maps: [start, end) and the four permission characters, e.g. {@code ---p}. */
    record Mapping(long start, long end, String perms) {
        boolean contains(long address) {
            return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
        }
    }

    /** The mapping that holds {@code address}, or null when nothing is mapped there. */
    static Mapping mappingAt(long address) {
        for (String line : read(MAPS)) {
            Mapping mapping = parse(line);
            if (mapping.contains(address)) {
                return mapping;
            }
        }
        return null;
    }

    /** Whether the kernel has the page holding {@code address} locked: its VMA carries VM_LOCKED ("lo"). */
    static boolean pageLocked(long address) {
        List<String> lines = read(SMAPS);
        boolean inside = false;
        for (String line : lines) {
            if (isMapsLine(line)) {
                inside = parse(line).contains(address);
            } else if (inside && line.startsWith("VmFlags:")) {
                for (String flag : line.substring("VmFlags:".length()).trim().split("\\s+")) {
                    if (flag.equals("lo")) {
                        return true;
                    }
                }
                return false;
            }
        }
        throw new IllegalStateException("no mapping holds 0x" + Long.toHexString(address));
    }

    /** Every mapping the kernel has locked (VM_LOCKED, "lo" in its smaps VmFlags), in one read of smaps. */
    static List<Mapping> lockedMappings() {
        List<Mapping> locked = new ArrayList<>();
        Mapping current = null;
        for (String line : read(SMAPS)) {
            if (isMapsLine(line)) {
                current = parse(line);
            } else if (current != null && line.startsWith("VmFlags:")) {
                for (String flag : line.substring("VmFlags:".length()).trim().split("\\s+")) {
                    if (flag.equals("lo")) {
                        locked.add(current);
                        break;
                    }
                }
            }
        }
        return locked;
    }

    /** The real uid of this process. */
    static int uid() {
        for (String line : read(STATUS)) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException(STATUS + " has no Uid line");
    }

    /** Whether the effective capability set holds capability number {@code cap} (capabilities(7)). */
    static boolean hasCapability(int cap) {
        for (String line : read(STATUS)) {
            if (line.startsWith("CapEff:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << cap)) != 0;
            }
        }
        throw new IllegalStateException(STATUS + " has no CapEff line");
    }

    /** Bytes the kernel counts as locked above {@code baseline} (VmLck, /proc/self/status). */
    static long lockedSince(long baseline) {
        return ProcessStatus.vmLckBytes() - baseline;
    }

    private static boolean isMapsLine(String line) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        return dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static Mapping parse(String line) {
        String[] fields = line.split("\\s+", 3);
        String[] bounds = fields[0].split("-");
        return new Mapping(Long.parseUnsignedLong(bounds[0], 16), Long.parseUnsignedLong(bounds[1], 16), fields[1]);
    }

    private static List<String> read(Path path) {
        try {
            return Files.readAllLines(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }
}
