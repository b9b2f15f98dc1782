package org.unetmm.pinning;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Virtual page → physical frame number, as the NIC's TLB would cache it, read from
 * {@code /proc/self/pagemap} (Documentation/admin-guide/mm/pagemap.rst): one little-endian
 * 64-bit entry per virtual page, bit 63 "present", bits 0–54 the frame number. Since Linux 4.0
 * the frame number reads as zero without CAP_SYS_ADMIN; then, and where pagemap cannot be read
 * at all, the translator is in {@link Mode#VIRTUAL} mode and returns the virtual page itself.
 */
public final class PageTranslator implements AutoCloseable {
    private static final Path PAGEMAP = Path.of("/proc/self/pagemap");
    private static final long PRESENT = 1L << 63;
    private static final long FRAME_MASK = (1L << 55) - 1;

    /** What {@link #translate} returns. */
    public enum Mode {
        /** Physical frame numbers from pagemap (root). */
        PHYSICAL,
        /** The virtual page number itself (pagemap hides frames from this process). */
        VIRTUAL
    }

    private final FileChannel pagemap;
    private final Mode mode;
    private final ByteBuffer entry = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);

    private PageTranslator(FileChannel pagemap, Mode mode) {
        this.pagemap = pagemap;
        this.mode = mode;
    }

    /**
     * Opens pagemap and probes, on a page it touches, whether frame numbers are visible.
     *
     * @return a translator in {@link Mode#PHYSICAL} mode where frames are visible, else {@link Mode#VIRTUAL}; the
     *         caller closes it
     */
    public static PageTranslator open() {
        FileChannel channel;
        try {
            channel = FileChannel.open(PAGEMAP, StandardOpenOption.READ);
        } catch (IOException | SecurityException e) {
            return new PageTranslator(null, Mode.VIRTUAL);
        }
        PageTranslator probe = new PageTranslator(channel, Mode.PHYSICAL);
        ByteBuffer touched = ByteBuffer.allocateDirect(1);
        touched.put(0, (byte) 1);
        long raw = probe.rawEntry(NativeMemory.pageOf(NativeMemory.address(touched)));
        if ((raw & PRESENT) != 0 && (raw & FRAME_MASK) != 0) {
            return probe;
        }
        return new PageTranslator(channel, Mode.VIRTUAL);
    }

    /** {@return what {@link #translate} returns: frame numbers, or virtual pages as they are} */
    public Mode mode() {
        return mode;
    }

    /**
     * The frame of a virtual page number; in {@link Mode#VIRTUAL} mode the page itself. A page
     * that is not present in RAM (never touched, or swapped) translates to -1 in physical mode.
     *
     * @param virtualPage a virtual page number (address / page size), not negative
     * @return the frame number, the page itself in virtual mode, or -1 for a page not present
     * @throws IllegalArgumentException if {@code virtualPage} is negative
     * @throws java.io.UncheckedIOException if pagemap cannot be read
     */
    public long translate(long virtualPage) {
        if (virtualPage < 0) {
            throw new IllegalArgumentException("virtual page number must not be negative: " + virtualPage);
        }
        if (mode == Mode.VIRTUAL) {
            return virtualPage;
        }
        long raw = rawEntry(virtualPage);
        return (raw & PRESENT) == 0 ? -1 : raw & FRAME_MASK;
    }

    /**
     * {@return the frame holding {@code address}, as {@link #translate} gives it for its page}
     *
     * @param address a virtual address, not negative
     */
    public long frameOf(long address) {
        return translate(NativeMemory.pageOf(address));
    }

    private synchronized long rawEntry(long virtualPage) {
        try {
            entry.clear();
            int read = pagemap.read(entry, virtualPage * 8);
            return read == 8 ? entry.getLong(0) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PAGEMAP + " at page " + virtualPage, e);
        }
    }

    @Override
    public void close() {
        if (pagemap != null) {
            try {
                pagemap.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
