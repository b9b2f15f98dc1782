package org.unetmm.internal;

import org.unetmm.pinning.PinInUseException;

/**
 * Freeing library-allocated memory that a queued send reads or a posted receive will write is
 * refused (DESIGN §3: freeing waits for, or refuses, in-flight use): the buffer is the NIC's until
 * its completion, and unmapping it under the NIC would crash the JVM, not just the caller. The
 * engine asks every queue, window and arrival whether it overlaps; these are the words it refuses with.
 */
public final class FreeGuard {
    private FreeGuard() {
    }

    /** Whether {@code [address, address + length)} overlaps {@code [start, start + bytes)}. */
    public static boolean overlaps(long address, long length, long start, long bytes) {
        return bytes > 0 && start < address + length && address < start + bytes;
    }

    /** Refuses the free when the ranges overlap; {@code what} names the user of the memory. */
    public static void refuseIfOverlaps(long address, long length, long start, long bytes, String what) {
        if (overlaps(address, length, start, bytes)) {
            refuse(address, length, what);
        }
    }

    public static void refuse(long address, long length, String what) {
        throw new PinInUseException("cannot free " + length + " bytes at 0x" + Long.toHexString(address) + ": "
                + what + " uses them and the buffer is the NIC's until its completion; wait for the completion"
                + " (or close the endpoint), then free");
    }

    /** Refuses freeing memory a queued PINNED send reads. */
    public static void refuseIfSendOverlaps(long address, long length, SendDescriptor d, String what) {
        if (d.path == org.unetmm.SendPath.PINNED) {
            for (int e = 0; e < d.count; e++) {
                refuseIfOverlaps(address, length, d.addresses[e] + d.offsets[e], d.lengths[e], what);
            }
        }
    }
}
