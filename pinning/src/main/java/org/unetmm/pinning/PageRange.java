package org.unetmm.pinning;

/**
 * The whole pages a byte range touches: {@code pageCount} pages from page number
 * {@code firstPage} (address / page size). The unit the pinner counts and the key of
 * a {@link PinCache} region.
 */
public record PageRange(long firstPage, long pageCount) {
    public PageRange {
        if (firstPage < 0 || pageCount <= 0) {
            throw new IllegalArgumentException("bad page range: first page " + firstPage + ", " + pageCount + " pages");
        }
    }

    /** The pages that [address, address+length) touches; {@code length} must be positive. */
    public static PageRange of(long address, long length) {
        if (address < 0 || length <= 0 || address + length < 0) {
            throw new IllegalArgumentException("bad byte range: " + length + " bytes at 0x" + Long.toHexString(address));
        }
        long page = NativeMemory.pageSize();
        long first = address / page;
        return new PageRange(first, (address + length + page - 1) / page - first);
    }

    public long address() {
        return firstPage * NativeMemory.pageSize();
    }

    public long length() {
        return pageCount * NativeMemory.pageSize();
    }

    public long endPage() {
        return firstPage + pageCount;
    }

    public boolean overlaps(long address, long length) {
        return PageRange.of(address, length).overlaps(this);
    }

    public boolean overlaps(PageRange other) {
        return firstPage < other.endPage() && other.firstPage < endPage();
    }
}
