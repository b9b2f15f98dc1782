package org.unetmm.pinning;

/**
 * The whole pages a byte range touches: {@code pageCount} pages from page number
 * {@code firstPage} (address / page size). The unit the pinner counts and the key of
 * a {@link PinCache} region.
 */
public record PageRange(long firstPage, long pageCount) {
    /**
     * Checks the range.
     *
     * @throws IllegalArgumentException if {@code firstPage} is negative or {@code pageCount} not positive
     * @param firstPage the first page's number, not negative
     * @param pageCount how many pages, positive
     */
    public PageRange {
        if (firstPage < 0 || pageCount <= 0) {
            throw new IllegalArgumentException("bad page range: first page " + firstPage + ", " + pageCount + " pages");
        }
    }

    /**
     * The pages that [address, address+length) touches.
     *
     * @param address first byte, not negative
     * @param length  bytes, positive
     * @return the whole pages under the range
     * @throws IllegalArgumentException for a negative address, a length not positive, or a range past the address space
     */
    public static PageRange of(long address, long length) {
        if (address < 0 || length <= 0 || address + length < 0) {
            throw new IllegalArgumentException("bad byte range: " + length + " bytes at 0x" + Long.toHexString(address));
        }
        long page = NativeMemory.pageSize();
        long first = address / page;
        return new PageRange(first, (address + length + page - 1) / page - first);
    }

    /** {@return the address of the first page's first byte} */
    public long address() {
        return firstPage * NativeMemory.pageSize();
    }

    /** {@return the bytes of every page in the range together} */
    public long length() {
        return pageCount * NativeMemory.pageSize();
    }

    /** {@return the page number just past the last page} */
    public long endPage() {
        return firstPage + pageCount;
    }

    /**
     * {@return whether a page of [address, address+length) is in this range}
     *
     * @param address first byte, not negative
     * @param length  bytes, positive
     */
    public boolean overlaps(long address, long length) {
        return PageRange.of(address, length).overlaps(this);
    }

    /**
     * {@return whether the two ranges share a page}
     *
     * @param other another range, not null
     */
    public boolean overlaps(PageRange other) {
        return firstPage < other.endPage() && other.firstPage < endPage();
    }
}
