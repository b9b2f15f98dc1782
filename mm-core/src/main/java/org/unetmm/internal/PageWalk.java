package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.PayloadSource;
import org.unetmm.tlb.Tlb;

/**
 * The one loop that translates a range of user memory page by page through the NIC's TLB (a
 * miss traps to the pin cache, which pins the page), and the copy that moves bytes a run of
 * translated pages at a time. Every read of a sender's pages and every write into a posted
 * buffer goes through here, so a page is never touched untranslated.
 *
 * <p>Copy runs: with an unbounded pin budget nothing the TLB releases is unpinned behind the
 * NIC's back, so up to 16 pages are translated and then moved at once; under a bounded budget a
 * translation displaced within a run could let its page be unpinned before the copy, so each
 * page is translated right before its own copy.
 */
public final class PageWalk {
    private static final long PAGE = NativeMemory.pageSize();
    /** Pages are a power of two: a shift, not a 64-bit division, per page on the data path. */
    private static final int PAGE_SHIFT = Long.numberOfTrailingZeros(PAGE);
    /** "No page translated yet" for {@link #translate}'s memo. */
    public static final long NO_PAGE = -1;

    private final Tlb tlb;
    /** Bytes translated before one copy: a power of two, page-aligned runs. */
    private final long copyRun;

    public PageWalk(Tlb tlb, boolean unboundedBudget) {
        this.tlb = tlb;
        this.copyRun = unboundedBudget ? 16 * PAGE : PAGE;
    }

    /**
     * Translates every page of {@code [address, address + length)} of {@code owner} in TLB
     * {@code context}, except page {@code skipPage} (the caller's memo: the page it translated
     * last in this transfer). Returns the last page number translated (or {@code skipPage}).
     * Throws what the TLB's miss path throws (the pin budget, RLIMIT_MEMLOCK).
     */
    public long translate(int context, ByteBuffer owner, long address, long length, long skipPage) {
        if (length <= 0) {
            return skipPage;
        }
        long last = skipPage;
        long end = (address + length - 1) >>> PAGE_SHIFT;
        for (long page = address >>> PAGE_SHIFT; page <= end; page++) {
            if (page != last) {
                tlb.lookup(context, owner, Math.max(page << PAGE_SHIFT, address));
                last = page;
            }
        }
        return last;
    }

    /** Translates every page of the range (see {@link #translate(int, ByteBuffer, long, long, long)}). */
    public void translate(int context, ByteBuffer owner, long address, long length) {
        translate(context, owner, address, length, NO_PAGE);
    }

    /** Bytes from {@code address} to the end of its copy run, at most {@code remaining}. */
    public int run(long address, long remaining) {
        return (int) Math.min(remaining, copyRun - (address & (copyRun - 1)));
    }

    /**
     * Pulls {@code length} payload bytes (from {@code payload}'s index 0) into the arrival's
     * posted buffer at message offset {@code at}, a run of translated pages at a time.
     */
    public void copyIn(int context, Arrival arrival, PayloadSource payload, int at, int length) {
        int done = 0;
        while (done < length) {
            int index = arrival.offset + at + done;
            long address = arrival.address + index;
            int chunk = run(address, length - done);
            translate(context, arrival.buffer, address, chunk);
            payload.copyTo(done, arrival.buffer, index, chunk);
            done += chunk;
        }
    }

}
