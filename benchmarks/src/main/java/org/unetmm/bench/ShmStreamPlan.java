package org.unetmm.bench;

import org.unetmm.SendPath;

/**
 * The window of the cross-process shm stream ({@link CrossProcessPeer} over {@code shm:}), planned
 * against the pin budgets of both processes.
 *
 * <p><b>Why its own window.</b> {@link UdpPeer.Window} caps a udp stream at 2 MiB in flight, to
 * stay inside a socket's receive buffer: at 1 MiB that is two messages, and a stream of two
 * messages waits a round trip (two acknowledgements, RTT/2 ~180 µs) every 2 MiB, so the shm wire's
 * {@code process_vm_readv} pipeline sat idle most of the time. The shm wire has no socket buffer;
 * what bounds its bytes in flight is memory the two processes must pin: the sender pins each
 * message it has in flight (the pinned path's sources stay pinned until the peer's read finished,
 * DESIGN invariant 6), and the receiver posts two buffers per message in flight, pinned when a
 * fragment lands in them (as the udp compare does: a window that reopens after a stall, the
 * receiver descheduled for {@link UdpPeer.Window#STALL_NANOS}, may send a second window before the
 * first was taken; with one buffer each the second window's messages found none posted, were
 * dropped, and the stream stalled again and again). So the plan asks for {@link #WANTED_BYTES} in flight (at most
 * {@link UdpPeer.Window#messagesFor} messages, at least one) and shrinks it until both sides fit:
 *
 * <pre>
 *  sender pins   = messages × size (PINNED sources) or its segment (FIXED_SEGMENT, (messages + 1) × size, ≥ 256 KiB)
 *                  + size (the ping-pong's reply buffer) + a page (the acknowledgement buffer)
 *  receiver pins = buffers × size (posted, two per message in flight)
 *                  + its segment (FIXED_SEGMENT only) + a page (its acknowledgement segment)
 *  each ≤ its process's budget less {@link #MARGIN}
 * </pre>
 *
 * The fixed path's sending segment holds the same window the pinned path's sources do, one
 * message more for the segment's first-in first-out allocator to skip to its start: its send
 * completes only once the peer copied it out of the shared segment, so a segment of two messages
 * kept the fixed stream at two in flight while the pinned one had eight, and pinned ÷ fixed
 * measured the windows, not one copy against two. The receiver's segment (its echoes) stays
 * {@link #segmentBytes}.
 *
 * <p>Under an ordinary user's 8 MiB RLIMIT_MEMLOCK a 1 MiB pinned stream gets 3 messages in flight,
 * and the plan says it shrank ({@link #note}). A message too large for even one in flight is
 * planned with one and reported as not fitting: the pinning library then pins it piece by piece.
 *
 * @param size            message bytes
 * @param messages        messages in flight at most
 * @param receiveBuffers  buffers the receiver posts
 * @param senderPins      bytes the sender will pin
 * @param receiverPins    bytes the receiver will pin
 * @param senderSegment   the sending endpoint's fixed segment (0 on the pinned path)
 * @param budget          the smaller of the two processes' budgets, bytes ({@link Long#MAX_VALUE}: unbounded)
 * @param shrunk          whether the budget made the window smaller than wanted
 * @param fits            whether both sides' pins fit their budgets
 */
record ShmStreamPlan(int size, int messages, int receiveBuffers, long senderPins, long receiverPins, int senderSegment,
                     long budget, boolean shrunk, boolean fits) {
    /**
     * Bytes in flight the plan asks for: 8 MiB, four times the udp window, eight 1 MiB messages
     * (32 rendezvous of the wire's 256 KiB fragments) for the receiver's reads to work through
     * while acknowledgements travel back.
     */
    static final long WANTED_BYTES = 8L << 20;
    /** Left unpinned in each process's budget, for what else locks a page (the TLB's pins of a ping). */
    static final long MARGIN = 64L << 10;
    /** Receive buffers the receiver posts per message in flight. */
    static final int BUFFERS_PER_MESSAGE = 2;
    private static final long PAGE = 4096;
    private static final long MIN_SEGMENT = 256L << 10;

    /** The plan for {@code size}-byte messages on {@code path}, given each process's pin budget (bytes). */
    static ShmStreamPlan plan(SendPath path, int size, long senderBudget, long receiverBudget) {
        long unit = Math.max(1, size);
        int wanted = (int) Math.max(1, Math.min(UdpPeer.Window.messagesFor(size), WANTED_BYTES / unit));
        int messages = wanted;
        while (messages > 1 && !fits(path, size, messages, senderBudget, receiverBudget)) {
            messages--;
        }
        return new ShmStreamPlan(size, messages, BUFFERS_PER_MESSAGE * messages, senderPins(path, size, messages), receiverPins(path, size, messages),
                senderSegmentBytes(path, size, messages), Math.min(senderBudget, receiverBudget), messages < wanted, fits(path, size, messages, senderBudget, receiverBudget));
    }

    /** The sending endpoint's fixed segment for {@code messages} in flight on {@code path} (0 on the pinned path). */
    static int senderSegmentBytes(SendPath path, int size, int messages) {
        return path == SendPath.FIXED_SEGMENT
                ? (int) Math.min(Integer.MAX_VALUE & -PAGE, Math.max(MIN_SEGMENT, (messages + 1L) * size)) : 0;
    }

    /** The fixed segment the receiving endpoint has on {@code path}, for its echoes (0 on the pinned path). */
    static int segmentBytes(SendPath path, int size) {
        return path == SendPath.FIXED_SEGMENT ? (int) Math.max(MIN_SEGMENT, 2L * size) : 0;
    }

    private static boolean fits(SendPath path, int size, int messages, long senderBudget, long receiverBudget) {
        return senderPins(path, size, messages) <= room(senderBudget) && receiverPins(path, size, messages) <= room(receiverBudget);
    }

    private static long room(long budget) {
        return budget == Long.MAX_VALUE ? budget : budget - MARGIN;
    }

    private static long senderPins(SendPath path, int size, int messages) {
        long sources = path == SendPath.PINNED ? (long) messages * size : senderSegmentBytes(path, size, messages);
        return sources + size + PAGE;
    }

    private static long receiverPins(SendPath path, int size, int messages) {
        return (long) BUFFERS_PER_MESSAGE * messages * size + segmentBytes(path, size) + PAGE;
    }

    /** The window this plan allows, as the stream runs it. */
    UdpPeer.Window window() {
        return UdpPeer.Window.of(messages, size);
    }

    /** Bytes in flight at most. */
    long bytesInFlight() {
        return (long) messages * size;
    }

    /** One line for the run record when the budget shaped the plan; null when it did not. */
    String note() {
        if (!shrunk && fits) {
            return null;
        }
        String limit = "the pin budget of " + (budget >> 10) + " KiB (RLIMIT_MEMLOCK of the smaller side)";
        if (!fits) {
            return "one message in flight does not fit " + limit + ": its pages are pinned piece by piece";
        }
        return "window shrunk to " + messages + " messages (" + (bytesInFlight() >> 10) + " KiB in flight, "
                + (WANTED_BYTES >> 10) + " KiB wanted) to fit " + limit + ": sender pins " + (senderPins >> 10)
                + " KiB, receiver pins " + (receiverPins >> 10) + " KiB";
    }
}
